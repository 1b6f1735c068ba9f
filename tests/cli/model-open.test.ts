// `lora-studio model open|list`: a local folder is validated by the core and recorded as a base model.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTinyModel } from '../fixtures/tiny-models.ts';

const bin = resolve(import.meta.dirname, '../../bin/lora-studio.js');
const dir = mkdtempSync(join(tmpdir(), 'lora-model-open-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args: string[]) {
  return spawnSync(process.execPath, [bin, '--data-dir', join(dir, 'home'), ...args], { encoding: 'utf8', timeout: 120_000 });
}

describe('lora-studio model open / list', () => {
  it('records a model folder given by a relative path, and lists it', async () => {
    const modelDir = join(dir, 'tiny-qwen');
    await makeTinyModel(modelDir, 'qwen2');
    const open = spawnSync(process.execPath, [bin, '--data-dir', join(dir, 'home'), 'model', 'open', 'tiny-qwen', '--json'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(open.status, open.stderr).toBe(0);
    const recorded = JSON.parse(open.stdout) as { id: string; architecture: string; path: string; sourceKind: string };
    expect(recorded.architecture).toBe('Qwen2ForCausalLM');
    expect(recorded.path).toBe(modelDir);
    expect(recorded.sourceKind).toBe('local');

    const list = cli('model', 'list', '--json');
    expect(list.status, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { id: string }[]).map((m) => m.id)).toContain(recorded.id);
  });

  it('refuses a missing folder with exit code 2 and says what is wrong', () => {
    const r = cli('model', 'open', join(dir, 'no-such-model'));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/nothing at .*no-such-model/);
  });
});
