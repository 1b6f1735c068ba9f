import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm, writeFile, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SafetensorsFile,
  WeightStore,
  writeSafetensors,
  serializeSafetensors,
  writeShardedSafetensors,
  f32ToF16Bits,
  f16BitsToF32,
  f32ToBf16Bits,
  bf16BitsToF32,
  toFloat32,
} from '../../../src/main/formats/safetensors/index.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'st-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Build a file by hand from the spec: u64 LE header length, JSON, raw data. */
function handMade(headerJson: string, data: Uint8Array, lengthOverride?: bigint): Uint8Array {
  const header = new TextEncoder().encode(headerJson);
  const out = new Uint8Array(8 + header.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(header.length), true);
  out.set(header, 8);
  out.set(data, 8 + header.length);
  return out;
}

async function put(name: string, bytes: Uint8Array): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, bytes);
  return p;
}

describe('safetensors reader on hand-built bytes', () => {
  it('reads F32, F16, BF16, I64, I32, U8 tensors by offset', async () => {
    const data = new Uint8Array(8 + 4 + 4 + 16 + 4 + 3);
    const dv = new DataView(data.buffer);
    dv.setFloat32(0, 1.5, true);
    dv.setFloat32(4, -2.25, true);
    dv.setUint16(8, 0x3c00, true); // f16 1.0
    dv.setUint16(10, 0xc000, true); // f16 -2.0
    dv.setUint16(12, 0x3f80, true); // bf16 1.0
    dv.setUint16(14, 0x4049, true); // bf16 3.140625
    dv.setBigInt64(16, -7n, true);
    dv.setBigInt64(24, 1n << 40n, true);
    dv.setInt32(32, -123456, true);
    data.set([0, 7, 255], 36);
    const header = JSON.stringify({
      __metadata__: { format: 'pt' },
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      h: { dtype: 'F16', shape: [1, 2], data_offsets: [8, 12] },
      b: { dtype: 'BF16', shape: [2], data_offsets: [12, 16] },
      i64: { dtype: 'I64', shape: [2], data_offsets: [16, 32] },
      i32: { dtype: 'I32', shape: [], data_offsets: [32, 36] },
      u8: { dtype: 'U8', shape: [3], data_offsets: [36, 39] },
    });
    const p = await put('hand.safetensors', handMade(header, data));
    const f = await SafetensorsFile.open(p);
    try {
      expect(f.metadata).toEqual({ format: 'pt' });
      expect(f.info('h').shape).toEqual([1, 2]);
      expect(f.info('h').fileOffset).toBe(8 + header.length + 8);
      expect([...(await f.readFloat32('a'))]).toEqual([1.5, -2.25]);
      expect([...(await f.readFloat32('h'))]).toEqual([1, -2]);
      expect([...(await f.readFloat32('b'))]).toEqual([1, 3.140625]);
      expect([...(await f.readRaw('i64') as BigInt64Array)]).toEqual([-7n, 1n << 40n]);
      expect([...(await f.readFloat32('i64'))]).toEqual([-7, 2 ** 40]);
      expect([...(await f.readRaw('i32') as Int32Array)]).toEqual([-123456]);
      expect([...(await f.readRaw('u8') as Uint8Array)]).toEqual([0, 7, 255]);
      await expect(f.readFloat32('nope')).rejects.toThrow(/no tensor named "nope"/);
    } finally {
      await f.close();
    }
  });

  const bad: [string, () => Uint8Array, RegExp][] = [
    ['a file shorter than 8 bytes', () => new Uint8Array([1, 2, 3]), /shorter than the 8-byte header length/],
    ['a header length past EOF', () => handMade('{}', new Uint8Array(0), 1000n), /header length 1000 runs past the end/],
    ['an absurd header length', () => handMade('{}', new Uint8Array(0), 1n << 40n), /exceeds the 100000000-byte limit/],
    ['bad JSON', () => handMade('{"a": ', new Uint8Array(0)), /header is not valid JSON/],
    ['a JSON array header', () => handMade('[1]', new Uint8Array(0)), /must be an object/],
    ['an unknown dtype', () => handMade('{"w":{"dtype":"F12","shape":[1],"data_offsets":[0,4]}}', new Uint8Array(4)), /tensor "w": unknown dtype "F12"/],
    ['shape × dtype ≠ span', () => handMade('{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', new Uint8Array(8)), /shape \[3\] × F32 is 12 bytes but data_offsets \[0, 8\] span 8/],
    ['offsets past the data (truncated)', () => handMade('{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', new Uint8Array(8)), /run past the end of the data \(8 bytes; file truncated\?\)/],
    [
      'overlapping offsets',
      () => handMade('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', new Uint8Array(12)),
      /tensor "b" data_offsets \[4,12\] overlap tensor "a"/,
    ],
    ['a gap', () => handMade('{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', new Uint8Array(8)), /gap in the data buffer: bytes 0\.\.4/],
    ['trailing bytes', () => handMade('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', new Uint8Array(9)), /data buffer is 9 bytes but the tensors cover 4/],
    ['negative offsets', () => handMade('{"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}', new Uint8Array(0)), /data_offsets must be \[begin, end\]/],
    ['non-string metadata', () => handMade('{"__metadata__":{"n":3}}', new Uint8Array(0)), /__metadata__\.n must be a string/],
  ];
  for (const [what, make, pattern] of bad) {
    it(`rejects ${what}, naming the file`, async () => {
      const p = await put(`bad-${what.replace(/\W+/g, '_')}.safetensors`, make());
      const err = await SafetensorsFile.open(p).then(
        () => null,
        (e: Error) => e,
      );
      expect(err).toBeInstanceOf(Error);
      expect(err!.message).toMatch(pattern);
      expect(err!.message.startsWith(p)).toBe(true);
    });
  }

  it('reports a missing file', async () => {
    await expect(SafetensorsFile.open(join(dir, 'absent.safetensors'))).rejects.toThrow(/absent\.safetensors: file not found/);
  });
});

describe('float conversions', () => {
  it('f16: every half value survives half → f32 → half', () => {
    const mismatches: number[] = [];
    for (let h = 0; h < 0x10000; h++) {
      const v = f16BitsToF32(h);
      const ok = Number.isNaN(v) ? Number.isNaN(f16BitsToF32(f32ToF16Bits(v))) : f32ToF16Bits(v) === h;
      if (!ok) mismatches.push(h);
    }
    expect(mismatches).toEqual([]);
  });

  it('f16: rounds to nearest, ties to even, overflow to Inf, subnormals', () => {
    // 1 + 2^-11 is exactly halfway between 1 and 1+2^-10: ties to even (1.0 = 0x3c00).
    expect(f32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00);
    // 1 + 3·2^-11 is halfway between 0x3c01 and 0x3c02: ties to even 0x3c02.
    expect(f32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(f32ToF16Bits(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01);
    expect(f32ToF16Bits(65504)).toBe(0x7bff);
    expect(f32ToF16Bits(65520)).toBe(0x7c00); // halfway to 65536 rounds up to Inf
    expect(f32ToF16Bits(-1e9)).toBe(0xfc00);
    expect(f32ToF16Bits(2 ** -24)).toBe(0x0001);
    expect(f32ToF16Bits(2 ** -25)).toBe(0x0000); // tie between 0 and the smallest subnormal → even (0)
    expect(f32ToF16Bits(1.5 * 2 ** -25)).toBe(0x0001);
    expect(f32ToF16Bits(-0)).toBe(0x8000);
    expect(f32ToF16Bits(NaN) & 0x7c00).toBe(0x7c00);
  });

  it('bf16: ties to even, NaN stays NaN', () => {
    // 1 + 2^-8 is halfway between bf16 1.0 (0x3f80) and 0x3f81 → even.
    expect(f32ToBf16Bits(1 + 2 ** -8)).toBe(0x3f80);
    expect(f32ToBf16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(f32ToBf16Bits(1 + 2 ** -8 + 2 ** -20)).toBe(0x3f81);
    expect(Number.isNaN(bf16BitsToF32(f32ToBf16Bits(NaN)))).toBe(true);
    expect(bf16BitsToF32(f32ToBf16Bits(-3.140625))).toBe(-3.140625);
  });

  it('toFloat32 rejects a byte count that is not whole elements', () => {
    expect(() => toFloat32(new Uint8Array(3), 'F16', 'x')).toThrow(/x: 3 bytes is not a whole number of F16 elements/);
  });
});

describe('safetensors writer', () => {
  it('writes what the spec says: aligned header, metadata first, offsets tiling the data', async () => {
    const bytes = await serializeSafetensors(
      [
        { name: 'b', dtype: 'F16', shape: [3], data: new Float32Array([1, 2, 3]) },
        { name: 'a', dtype: 'F32', shape: [2], data: new Float32Array([0.5, -1]) },
      ],
      { metadata: { format: 'pt' } },
    );
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const json = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(json.trimEnd()).toBe(
      '{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F16","shape":[3],"data_offsets":[8,14]}}',
    );
    expect(json.slice(json.trimEnd().length)).toMatch(/^ *$/);
    const dv = new DataView(bytes.buffer, 8 + n);
    expect(dv.getFloat32(0, true)).toBe(0.5);
    expect(dv.getUint16(8, true)).toBe(0x3c00);
    expect(dv.getUint16(12, true)).toBe(0x4200);
  });

  it('round-trips F32 exactly and F16/BF16 within their rounding, lazily produced data too', async () => {
    const values = new Float32Array(1000).map((_, i) => Math.sin(i) * 10 ** ((i % 7) - 3));
    const p = join(dir, 'rt.safetensors');
    await writeSafetensors(
      p,
      [
        { name: 'f32', dtype: 'F32', shape: [10, 100], data: values },
        { name: 'f16', dtype: 'F16', shape: [1000], data: () => values },
        { name: 'bf16', dtype: 'BF16', shape: [1000], data: async () => values },
        { name: 'raw', dtype: 'U8', shape: [2], data: new Uint8Array([9, 8]) },
      ],
      { metadata: { note: 'x' } },
    );
    const f = await SafetensorsFile.open(p);
    try {
      expect(f.metadata).toEqual({ note: 'x' });
      expect(await f.readFloat32('f32')).toEqual(values);
      const h = await f.readFloat32('f16');
      const b = await f.readFloat32('bf16');
      for (let i = 0; i < values.length; i++) {
        expect(h[i]).toBe(f16BitsToF32(f32ToF16Bits(values[i])));
        expect(b[i]).toBe(bf16BitsToF32(f32ToBf16Bits(values[i])));
        expect(Math.abs(b[i] - values[i])).toBeLessThanOrEqual(Math.abs(values[i]) * 2 ** -8);
      }
      expect([...(await f.readRaw('raw') as Uint8Array)]).toEqual([9, 8]);
    } finally {
      await f.close();
    }
    expect((await readdir(dir)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });

  it('refuses data that does not fit the shape, leaving no file behind', async () => {
    const p = join(dir, 'wrong.safetensors');
    await expect(writeSafetensors(p, [{ name: 'w', dtype: 'F32', shape: [3], data: new Float32Array(2) }])).rejects.toThrow(
      /tensor "w": 2 values for shape \[3\]/,
    );
    expect((await readdir(dir)).filter((n) => n.includes('wrong'))).toEqual([]);
  });
});

describe('sharded checkpoints', () => {
  it('writes shards + index above the size limit and reads them back through the index', async () => {
    const sub = join(dir, 'sharded');
    const tensors = Array.from({ length: 5 }, (_, i) => ({
      name: `layers.${i}.w`,
      dtype: 'F32' as const,
      shape: [16, 16],
      data: new Float32Array(256).fill(i),
    }));
    const res = await writeShardedSafetensors(sub, tensors, { maxShardBytes: 2 * 1024 + 10 });
    expect(res.files).toEqual([
      'model-00001-of-00003.safetensors',
      'model-00002-of-00003.safetensors',
      'model-00003-of-00003.safetensors',
    ]);
    const index = JSON.parse(await readFile(join(sub, 'model.safetensors.index.json'), 'utf8'));
    expect(index.metadata.total_size).toBe(5 * 1024);
    expect(index.weight_map['layers.4.w']).toBe('model-00003-of-00003.safetensors');
    const store = await WeightStore.open(sub);
    try {
      expect(store.names().sort()).toEqual(tensors.map((t) => t.name));
      expect((await store.readFloat32('layers.3.w'))[17]).toBe(3);
      expect(store.fileOf('layers.0.w')).toMatch(/model-00001-of-00003/);
    } finally {
      await store.close();
    }
  });

  it('names a shard the index points to that is missing, and a folder with no weights', async () => {
    const sub = join(dir, 'broken');
    await writeShardedSafetensors(sub, [{ name: 'w', dtype: 'F32', shape: [1], data: new Float32Array(1) }]);
    await writeFile(join(sub, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { w: 'model-00001-of-00002.safetensors' } }));
    await expect(WeightStore.open(sub)).rejects.toThrow(/weight_map\["w"\] points to "model-00001-of-00002.safetensors", which is missing/);
    await expect(WeightStore.open(join(dir, 'nothing-here'))).rejects.toThrow(/no model\.safetensors or model\.safetensors\.index\.json/);
  });
});
