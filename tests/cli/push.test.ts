// `lora-studio push` run as a user would (bin/lora-studio.js in a child process) against the local Hub named
// by HF_ENDPOINT, with HF_TOKEN: an adapter folder and a GGUF file land byte for byte with their card (the
// GGUF under its quantization's name, with a Modelfile); a second run sends nothing; bad command lines exit 2
// and refusals exit 1 with one sentence and no stack trace.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportGguf } from '../../src/main/formats/gguf/index.ts';
import { makeChatFixture, type ChatFixture } from '../engine/generate/fixtures.ts';
import { MockPushHub, READ_TOKEN, WRITE_TOKEN, sha256 } from '../formats/hub/mock-hub-push.ts';

const bin = resolve(import.meta.dirname, '../../bin/lora-studio.js');
const root = mkdtempSync(join(tmpdir(), 'lora-cli-push-'));
const hub = new MockPushHub();
let fx: ChatFixture;
let gguf: string;

beforeAll(async () => {
  await hub.start();
  fx = await makeChatFixture(root);
  gguf = join(root, 'tiny.gguf');
  await exportGguf({ baseDir: fx.model.dir, adapters: [], outFile: gguf, type: 'q8_0' });
}, 120_000);
afterAll(async () => {
  await hub.stop();
  rmSync(root, { recursive: true, force: true });
});

// Async (not execFileSync): the Hub stand-in lives in this process and must keep answering.
function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [bin, ...args],
      {
        env: {
          ...process.env,
          LORA_STUDIO_HOME: join(root, 'data'),
          HF_HOME: join(root, 'hf'),
          HF_ENDPOINT: hub.endpoint,
          HF_TOKEN: WRITE_TOKEN,
          HF_HUB_OFFLINE: '',
          ...env,
        },
        timeout: 150_000,
      },
      (err, stdout, stderr) => done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('lora-studio push', { timeout: 180_000 }, () => {
  it('pushes an adapter folder with its card, then finds nothing to send the second time', async () => {
    const first = await cli([
      'push',
      '--adapter',
      fx.adapters[0],
      '--repo',
      'alice/cli-lora',
      '--private',
      '--message',
      'from the CLI',
    ]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(
      /^Pushed \d+ files? to http:\/\/127\.0\.0\.1:\d+\/alice\/cli-lora \(commit [0-9a-f]{12}\)/,
    );
    const held = hub.filesOf('alice/cli-lora');
    for (const f of readdirSync(fx.adapters[0]))
      expect(sha256(held.get(f)!), f).toBe(sha256(readFileSync(join(fx.adapters[0], f))));
    expect(held.get('README.md')!.toString()).toMatch(/^---\n[\s\S]*library_name: peft/);
    expect(hub.repos.get('alice/cli-lora')!.commits.at(-1)!.title).toBe('from the CLI');
    const again = await cli(['push', '--adapter', fx.adapters[0], '--repo', 'alice/cli-lora']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('already holds exactly these files');
  });

  it('pushes a GGUF named by its quantization, with a Modelfile', async () => {
    const res = await cli(['push', '--gguf', gguf, '--repo', 'alice/tiny-GGUF', '--json']);
    expect(res.code, res.stderr).toBe(0);
    const result = JSON.parse(res.stdout) as { files: { path: string }[] };
    expect(result.files.map((f) => f.path).sort()).toEqual(['Modelfile', 'README.md', 'tiny-GGUF-Q8_0.gguf']);
    expect(sha256(hub.filesOf('alice/tiny-GGUF').get('tiny-GGUF-Q8_0.gguf')!)).toBe(sha256(readFileSync(gguf)));
  });

  it('export writes the card too: README.md in a merged folder, a Modelfile beside a GGUF and the ollama create command', async () => {
    const folder = join(root, 'merged');
    const hf = await cli([
      'export',
      '--format',
      'hf',
      '--base',
      fx.model.dir,
      '--adapter',
      fx.adapters[0],
      '--out',
      folder,
      '--type',
      'f32',
    ]);
    expect(hf.code, hf.stderr).toBe(0);
    const card = readFileSync(join(folder, 'README.md'), 'utf8');
    expect(card).toMatch(
      /^---\nlibrary_name: transformers\npipeline_tag: text-generation\ntags:\n {2}- lora-studio\n {2}- lora\n---\n/,
    );
    expect(card).toContain('| LoRA rank (r) / alpha | 4 / 8 |');
    const file = join(root, 'merged-q8.gguf');
    const g = await cli([
      'export',
      '--format',
      'gguf',
      '--base',
      fx.model.dir,
      '--adapter',
      fx.adapters[0],
      '--out',
      file,
      '--type',
      'q8_0',
    ]);
    expect(g.code, g.stderr).toBe(0);
    const modelfile = join(root, 'merged-q8.Modelfile');
    expect(g.stdout).toContain(`ollama create merged-q8 -f ${modelfile}`);
    expect(readFileSync(modelfile, 'utf8')).toContain('FROM ./merged-q8.gguf\n');
  });

  it('says what is wrong: flags (exit 2), a read-only token, offline mode (exit 1), never a stack trace', async () => {
    const none = await cli(['push', '--repo', 'alice/x']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('give exactly one of --adapter DIR, --model DIR or --gguf FILE');
    const wrongKind = await cli(['push', '--gguf', fx.adapters[0], '--repo', 'alice/x']);
    expect(wrongKind.code).toBe(2);
    expect(wrongKind.stderr).toMatch(/is not a \.gguf file \(it looks like an adapter folder\)/);
    const badRepo = await cli(['push', '--adapter', fx.adapters[0], '--repo', 'no-slash']);
    expect(badRepo.code).toBe(2);
    expect(badRepo.stderr).toContain('a Hub repo looks like "user/name"');
    const readOnly = await cli(['push', '--adapter', fx.adapters[0], '--repo', 'alice/ro'], { HF_TOKEN: READ_TOKEN });
    expect(readOnly.code).toBe(1);
    expect(readOnly.stderr).toMatch(/may not write to alice\/ro \(403/);
    const offline = await cli(['push', '--adapter', fx.adapters[0], '--repo', 'alice/off'], { HF_HUB_OFFLINE: '1' });
    expect(offline.code).toBe(1);
    expect(offline.stderr).toMatch(/offline mode is on/);
    for (const r of [none, wrongKind, badRepo, readOnly, offline]) expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(hub.repos.has('alice/ro') || hub.repos.has('alice/off')).toBe(false);
  });
});
