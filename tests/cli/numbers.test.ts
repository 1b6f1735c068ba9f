// Numeric flags are read strictly everywhere: a value that is not wholly one number is refused with the flag's
// name (never read as NaN and ignored, never as hex or as a prefix of something longer).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isStrictNumber, parseByteSize, parseStrictNumber } from '../../src/main/cli/numbers.ts';
import { samplingFromFlags } from '../../src/main/cli/commands/chat.ts';

const bin = resolve(import.meta.dirname, '../../bin/lora-studio.js');
const dataDir = mkdtempSync(join(tmpdir(), 'lora-cli-numbers-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [bin, '--data-dir', dataDir, ...args], { timeout: 60_000 }, (err, _stdout, stderr) => {
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr });
    });
  });
}

describe('strict numbers', () => {
  it('accepts decimal numbers only', () => {
    for (const ok of ['0', '42', '-3', '0.5', '.5', '1e-4', '2E3', ' 7 ']) expect(isStrictNumber(ok), ok).toBe(true);
    for (const bad of ['', ' ', 'abc', '12abc', '0x10', '0b1', 'Infinity', 'NaN', '1,5', '1e', '--1'])
      expect(isStrictNumber(bad), bad).toBe(false);
    expect(parseStrictNumber('--lr', '1e-4')).toBe(1e-4);
    expect(() => parseStrictNumber('--lr', '1e-4x')).toThrow('--lr expects a number, got "1e-4x"');
  });

  it('reads sizes with decimal and binary units', () => {
    expect(parseByteSize('--max-shard-size', '500MB')).toBe(500e6);
    expect(parseByteSize('--max-shard-size', '2GiB')).toBe(2 * 2 ** 30);
    expect(() => parseByteSize('--max-shard-size', 'abc')).toThrow('expects a size in bytes');
    expect(() => parseByteSize('--max-shard-size', '0')).toThrow('expects a size in bytes');
  });

  it('chat sampling flags refuse hex and trailing text', () => {
    const base = { model: 'm', adapter: [], scale: [], stop: [] };
    expect(samplingFromFlags({ ...base, temperature: '0.7', topK: '40' })).toMatchObject({
      temperature: 0.7,
      topK: 40,
    });
    expect(() => samplingFromFlags({ ...base, temperature: '0x1' })).toThrow(
      '--temperature: expected a number, got "0x1"',
    );
    expect(() => samplingFromFlags({ ...base, topP: '0.9p' })).toThrow('--top-p: expected a number');
  });

  it('serve --port and demo --seed refuse what is not a number, naming the flag, with no stack trace', async () => {
    const port = await cli(['serve', '--port', '0x10']);
    expect(port.code).not.toBe(0);
    expect(port.stderr).toContain('--port must be an integer from 0 to 65535, got "0x10"');
    const seed = await cli(['demo', '--seed', '1x', '--steps', '1']);
    expect(seed.code).toBe(2);
    expect(seed.stderr).toContain('--seed expects a whole number (0 or more), got "1x"');
    for (const r of [port, seed]) expect(r.stderr).not.toMatch(/^\s+at \S/m);
  });
});
