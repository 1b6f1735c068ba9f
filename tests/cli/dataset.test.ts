// `lora-studio dataset …` and `model pull` run as a user would (bin/lora-studio.js in a child process);
// `model pull` talks to a local Hub stand-in through HF_ENDPOINT.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeTinyTokenizer, buildTinyTokenizer } from '../fixtures/tiny-tokenizer.ts';
import { commitHash, MockHub } from '../formats/hub/mock-hub.ts';
import { rowsLine } from '../../src/main/cli/commands/dataset.ts';

const bin = resolve(import.meta.dirname, '../../bin/lora-studio.js');
const root = mkdtempSync(join(tmpdir(), 'lora-cli-dataset-'));
const hub = new MockHub();
let endpoint = '';

beforeAll(async () => {
  const tok = buildTinyTokenizer();
  const C = commitHash('cli');
  hub.addRepo({
    type: 'model',
    name: 'tiny/model',
    refs: { main: C },
    commits: {
      [C]: {
        'config.json': { content: Buffer.from('{"model_type": "llama"}'), lfs: false },
        'tokenizer.json': { content: Buffer.from(JSON.stringify(tok.tokenizerJson)), lfs: false },
        'model.safetensors': { content: Buffer.alloc(50_000, 1), lfs: true },
        'pytorch_model.bin': { content: Buffer.alloc(50_000, 2), lfs: true },
      },
    },
  });
  endpoint = await hub.start();
});
afterAll(async () => {
  await hub.stop();
  rmSync(root, { recursive: true, force: true });
});

// Async (not execFileSync): the Hub stand-in lives in this process and must keep answering.
function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [bin, ...args], { env: { ...process.env, LORA_STUDIO_HOME: join(root, 'data'), ...env }, timeout: 150_000 }, (err, stdout, stderr) => {
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const chat = (q: string, a: string, role = 'assistant') => JSON.stringify({ messages: [{ role: 'user', content: q }, { role, content: a }] });
const file = (name: string, content: string) => {
  const path = join(root, name);
  writeFileSync(path, content);
  return path;
};

// Each CLI start transpiles the CLI with tsx (seconds of CPU): generous time for a loaded CI machine.
describe('lora-studio dataset', { timeout: 180_000 }, () => {
  it('import: reports format, bad rows with their line, duplicates; --stop-on-error exits 2; --out writes canonical JSONL', async () => {
    const path = file('chat.jsonl', [chat('What is a rank?', 'Adapter size.'), chat('hi', 'x', 'robot'), chat('What is a rank?', 'Adapter size.')].join('\n') + '\n');
    const out = join(root, 'clean.jsonl');
    // Independent runs go in parallel: each CLI start costs seconds on a loaded machine.
    const [json, stop, mapped, badFlag] = await Promise.all([
      cli(['dataset', 'import', path, '--json', '--out', out]),
      cli(['dataset', 'import', path, '--stop-on-error']),
      cli(['dataset', 'import', file('qa.csv', 'q,a\nWhy?,Because.\n'), '--format', 'completion', '--column', 'prompt=q', '--column', 'completion=a', '--json']),
      cli(['dataset', 'import', path, '--column', 'prompt=q']),
    ]);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ format: 'chat', rowsRead: 3, examples: 2, badRows: 1, duplicateRows: 1 });
    expect(report.problems).toEqual([expect.stringMatching(/^chat\.jsonl:2 \(row 1\), field "messages\[1\]\.role": unknown role "robot"/)]);
    expect(readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { messages: [{ role: 'user', content: 'What is a rank?' }, { role: 'assistant', content: 'Adapter size.' }] },
      { messages: [{ role: 'user', content: 'What is a rank?' }, { role: 'assistant', content: 'Adapter size.' }] },
    ]);
    expect(stop.code).toBe(2);
    expect(stop.stderr).toMatch(/error: chat\.jsonl:2 \(row 1\), field "messages\[1\]\.role": unknown role "robot"/);
    expect(JSON.parse(mapped.stdout)).toMatchObject({ format: 'completion', examples: 1, badRows: 0 });
    expect(badFlag.code).not.toBe(0);
    expect(badFlag.stderr).toMatch(/--column needs --format/);
  });

  it('import and preview group their row counts like the rest of the CLI ("1,500 rows", not "1500")', async () => {
    const many = file('many.jsonl', Array.from({ length: 1500 }, (_, i) => chat(`Question ${i}?`, `Answer ${i}.`)).join('\n') + '\n');
    const out = join(root, 'many-clean.jsonl');
    const model = join(root, 'tok-many');
    writeTinyTokenizer(model);
    const [imported, previewed] = await Promise.all([
      cli(['dataset', 'import', many, '--out', out]),
      cli(['dataset', 'preview', many, '--model', model, '--rows', '1']),
    ]);
    expect(imported.code).toBe(0);
    expect(imported.stderr).toMatch(/reading 1,500 rows in /);
    expect(imported.stderr).toContain('wrote 1,500 rows to');
    expect(imported.stdout).toMatch(/^Rows +1,500 read, 1,500 usable, 0 bad$/m);
    expect(previewed.code).toBe(0);
    expect(previewed.stderr).toMatch(/^reading 1,500 rows$/m);
    expect(previewed.stdout).toMatch(/^Rows +1,500 read, 1,500 usable, 0 bad$/m);
    expect(previewed.stdout).toMatch(/^Truncated at [\d,]+: 0 of 1,500 \(0\.0%\)$/m);
    for (const r of [imported, previewed]) expect(r.stdout + r.stderr).not.toMatch(/\b1500\b/);
    expect(rowsLine(12000, 11998, 2, 3)).toBe('12,000 read, 11,998 usable, 2 bad (3 problems)');
  });

  it('split: the same seed writes the same files', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => JSON.stringify({ prompt: `q${i}`, completion: `a${i}` })).join('\n');
    const path = file('pairs.jsonl', rows);
    const [a, b] = await Promise.all([
      cli(['dataset', 'split', path, '--out-dir', join(root, 'a'), '--eval-ratio', '0.25', '--seed', '7', '--json']),
      cli(['dataset', 'split', path, '--out-dir', join(root, 'b'), '--eval-ratio', '0.25', '--seed', '7']),
    ]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(JSON.parse(a.stdout)).toMatchObject({ train: { rows: 30 }, eval: { rows: 10 }, overlap: 0, seed: 7 });
    expect(readFileSync(join(root, 'a', 'eval.jsonl'), 'utf8')).toBe(readFileSync(join(root, 'b', 'eval.jsonl'), 'utf8'));
    expect(readFileSync(join(root, 'a', 'train.jsonl'), 'utf8').trim().split('\n')).toHaveLength(30);
  });

  it('preview: renders rows with the model template, trained tokens marked, and length statistics', async () => {
    const model = join(root, 'tok');
    writeTinyTokenizer(model);
    const path = file('preview.jsonl', [chat('What is a rank?', 'Adapter size.'), chat('Long?', 'word '.repeat(60))].join('\n'));
    const [r, jsonRun] = await Promise.all([
      cli(['dataset', 'preview', path, '--model', model, '--max-length', '30', '--rows', '1']),
      cli(['dataset', 'preview', path, '--model', model, '--json']),
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('<|im_start|>user\nWhat is a rank?<|im_end|>\n<|im_start|>assistant\n⟦Adapter size.<|im_end|>⟧\n');
    expect(r.stdout).toMatch(/Truncated at 30: 1 of 2 \(50\.0%\)/);
    const json = JSON.parse(jsonRun.stdout);
    expect(json.rows[0].rendered.pieces.filter((p: { trained: boolean }) => p.trained).map((p: { text: string }) => p.text).join('')).toBe('Adapter size.<|im_end|>');
    expect(json.stats.count).toBe(2);
  });
});

describe('lora-studio model pull', { timeout: 180_000 }, () => {
  it('downloads the model files into HF_HUB_CACHE, then works offline', async () => {
    const cache = join(root, 'hf-cache');
    const env = { HF_ENDPOINT: endpoint, HF_HUB_CACHE: cache };
    const [r, missing] = await Promise.all([cli(['model', 'pull', 'tiny/model', '--json'], env), cli(['model', 'pull', 'tiny/absent'], env)]);
    expect(r.code).toBe(0);
    const pulled = JSON.parse(r.stdout);
    expect(pulled.files.sort()).toEqual(['config.json', 'model.safetensors', 'tokenizer.json']);
    expect(pulled.path).toBe(join(cache, 'models--tiny--model', 'snapshots', commitHash('cli')));
    expect(existsSync(join(pulled.path, 'pytorch_model.bin'))).toBe(false);
    expect(r.stderr).toMatch(/downloading [\d.]+ KiB downloaded, 0 of 3 files already cached/);
    hub.log.length = 0;
    const offline = await cli(['model', 'pull', 'tiny/model'], { ...env, HF_HUB_OFFLINE: '1' });
    expect(offline.code).toBe(0);
    expect(offline.stdout).toContain(pulled.path);
    expect(hub.log).toEqual([]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/error: tiny\/absent not found on http:\/\/127\.0\.0\.1:\d+/);
  });
});
