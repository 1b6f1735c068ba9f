// Text that is not UTF-8 is refused with the file, line and byte offset (never turned into U+FFFD and trained
// on); a UTF-16/32 byte-order mark is named; a line nested thousands of levels deep is a bad row, not a stack
// overflow; and a file with no usable row says so, citing the lines.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importDataset } from '../../../src/main/formats/dataset/import.ts';
import { firstInvalidUtf8, nestingDepth } from '../../../src/main/formats/dataset/read.ts';

const dir = mkdtempSync(join(tmpdir(), 'dataset-encoding-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, bytes: Buffer | string) => {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
};

describe('text encodings', () => {
  it('Latin-1 bytes in a JSONL are refused with the line and the byte offset', async () => {
    const path = file(
      'latin1.jsonl',
      Buffer.concat([Buffer.from('{"text": "ok"}\n{"text": "caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]),
    );
    await expect(importDataset(path)).rejects.toThrow(
      /latin1\.jsonl: line 2, byte 28 \(0xE9\) is not valid UTF-8; .*save it as UTF-8/,
    );
  });

  it('the same in CSV and in a JSON array; a sequence cut off by the end of the file too', async () => {
    await expect(
      importDataset(file('l.csv', Buffer.concat([Buffer.from('text\nna'), Buffer.from([0xef]), Buffer.from('ve\n')]))),
    ).rejects.toThrow(/l\.csv: line 2, byte 7 \(0xEF\)/);
    await expect(
      importDataset(
        file('l.json', Buffer.concat([Buffer.from('[{"text": "'), Buffer.from([0xff]), Buffer.from('"}]')])),
      ),
    ).rejects.toThrow(/l\.json: line 1, byte 11 \(0xFF\)/);
    await expect(
      importDataset(file('cut.jsonl', Buffer.concat([Buffer.from('{"text": "a"}\n'), Buffer.from([0xe2, 0x82])]))),
    ).rejects.toThrow(/cut\.jsonl: line 2, byte 14 \(0xE2\)/);
  });

  it('names UTF-16 and UTF-32 from the byte-order mark', async () => {
    const utf16le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"text": "hi"}\n', 'utf16le')]);
    await expect(importDataset(file('u16.jsonl', utf16le))).rejects.toThrow(
      /u16\.jsonl is encoded as UTF-16 \(little-endian\), as its byte-order mark says; save it as UTF-8/,
    );
    const utf16be = Buffer.from([0xfe, 0xff, 0, 0x74, 0, 0x65]);
    await expect(importDataset(file('u16be.csv', utf16be))).rejects.toThrow(/UTF-16 \(big-endian\)/);
    await expect(importDataset(file('u32.jsonl', Buffer.from([0xff, 0xfe, 0, 0, 0x7b, 0, 0, 0])))).rejects.toThrow(
      /UTF-32 \(little-endian\)/,
    );
  });

  it('accepts real UTF-8 (with a UTF-8 BOM) and agrees with the decoder on what is valid', async () => {
    const good = await importDataset(file('good.jsonl', '\ufeff{"text": "café — 한국어 — 🙂"}\n'));
    expect(good.examples).toHaveLength(1);
    const samples: [number[], number][] = [
      [[0x61, 0x62], -1],
      [[0xc3, 0xa9], -1],
      [[0xc0, 0xaf], 0], // overlong
      [[0x61, 0xed, 0xa0, 0x80], 1], // a surrogate
      [[0xf4, 0x90, 0x80, 0x80], 0], // past U+10FFFF
      [[0xf0, 0x9f, 0x99, 0x82], -1],
      [[0x61, 0xe2, 0x82], 1],
    ];
    for (const [bytes, at] of samples) {
      expect(firstInvalidUtf8(Uint8Array.from(bytes)), bytes.join(',')).toBe(at);
      let decodes = true;
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
      } catch {
        decodes = false;
      }
      expect(decodes).toBe(at === -1);
    }
  });
});

describe('row shapes', () => {
  it('a line of 200,000 nested arrays is a bad row naming its line; the other rows are used', async () => {
    const path = file('deep.jsonl', `{"text": ${'['.repeat(200_000)}${']'.repeat(200_000)}}\n{"text": "fine"}\n`);
    const d = await importDataset(path);
    expect(d.examples).toHaveLength(1);
    expect(d.problems[0]).toMatchObject({
      file: 'deep.jsonl',
      line: 1,
      message: expect.stringMatching(/nests arrays\/objects more than 64 levels deep/),
    });
    expect(nestingDepth({ messages: [{ role: 'user', content: 'x' }] })).toBe(3);
  });

  it('no usable row: says so and cites the lines, instead of "cannot tell the format"', async () => {
    const path = file('zero.jsonl', '{"messages": "hello"}\n{"messages": 5}\n');
    await expect(importDataset(path)).rejects.toThrow(
      /zero\.jsonl: no row is usable: column "messages" must hold a list of messages .* line 1: "hello"; line 2: 5/,
    );
  });
});
