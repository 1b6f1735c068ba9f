// Files and targets that are not what they should be get a message naming the file and the problem: a weights
// "file" that is a folder, an export target whose folder cannot be written, a tokenizer whose ids run past the
// model's embedding rows.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportGguf } from '../../src/main/formats/gguf/index.ts';
import { exportHfModel } from '../../src/main/formats/export/index.ts';
import { openModelFolder } from '../../src/main/formats/model/folder.ts';
import { explainWriteError } from '../../src/main/formats/output-guard.ts';
import { HfTokenizer } from '../../src/main/formats/tokenizer/index.ts';
import { makeTinyModel } from '../fixtures/tiny-models.ts';

const root = mkdtempSync(join(tmpdir(), 'bad-paths-'));
let model: string;
beforeAll(async () => {
  model = join(root, 'model');
  await makeTinyModel(model, 'llama', { seed: 2 });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('bad paths', () => {
  it('model.safetensors that is a folder: named, not EISDIR', async () => {
    const folder = join(root, 'weights-folder');
    cpSync(model, folder, { recursive: true });
    rmSync(join(folder, 'model.safetensors'));
    mkdirSync(join(folder, 'model.safetensors'));
    await expect(openModelFolder(folder)).rejects.toThrow(
      /weights-folder\/model\.safetensors: is a folder, not a safetensors file/,
    );
  });

  it('an export whose target folder cannot be created says which target and why (not a temporary name)', async () => {
    const blocker = join(root, 'a-file');
    writeFileSync(blocker, 'x');
    const target = join(blocker, 'out', 'model.gguf');
    await expect(exportGguf({ baseDir: model, outFile: target })).rejects.toThrow(
      new RegExp(
        `cannot write ${target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: a part of the path is a file, not a folder in .* \\(ENOTDIR on mkdir\\)`,
      ),
    );
    await expect(exportHfModel({ baseDir: model, outDir: join(blocker, 'merged') })).rejects.toThrow(
      /cannot write .*a-file\/merged: a part of the path is a file, not a folder/,
    );
    // Read-only and full disks read the same way (as root, chmod cannot make a folder read-only, so the
    // errno errors are built here as the file system reports them).
    for (const [code, words] of [
      ['EACCES', 'permission denied'],
      ['EROFS', 'the file system is read-only'],
      ['ENOSPC', 'the disk is full'],
    ] as const) {
      const err = Object.assign(new Error(`${code}: open '/x/.y.tmp-1'`), { code, syscall: 'open' });
      expect((explainWriteError(err, '/x/y.gguf') as Error).message).toBe(
        `cannot write /x/y.gguf: ${words} in /x (${code} on open); choose a folder you can write to${code === 'ENOSPC' ? ', or free some space' : ''}`,
      );
    }
    const other = new Error('not a file-system error');
    expect(explainWriteError(other, '/x/y')).toBe(other);
  });

  it('a tokenizer token id beyond vocab_size is refused when the model folder is opened', () => {
    const folder = join(root, 'big-token');
    cpSync(model, folder, { recursive: true });
    const tokenizer = JSON.parse(readFileSync(join(folder, 'tokenizer.json'), 'utf8')) as { added_tokens: unknown[] };
    tokenizer.added_tokens.push({
      id: 5000,
      content: '<tool>',
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    });
    writeFileSync(join(folder, 'tokenizer.json'), JSON.stringify(tokenizer));
    const vocab = (JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as { vocab_size: number }).vocab_size;
    expect(() => HfTokenizer.load(folder)).toThrow(
      new RegExp(
        `tokenizer\\.json: token "<tool>" has id 5000, but the model has ${vocab} token embeddings \\(vocab_size in .*config\\.json\\)`,
      ),
    );
    expect(HfTokenizer.load(model).vocabSize).toBeLessThanOrEqual(vocab);
  });
});
