// `lora-studio chat` as a user runs it: a subprocess against a temp data dir and a tiny model with PEFT adapters;
// one answer with --prompt (streamed, or JSON), adapters attached / scaled to 0 / compared side by side, the
// interactive loop on stdin, and bad flags refused by name.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeChatFixture } from '../engine/generate/fixtures.ts';

const bin = resolve(import.meta.dirname, '../../bin/lora-studio.js');
let root: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'lora-cli-chat-'));
  await makeChatFixture(root); // model/ and adapter-*/ under root, named relative to it below
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function cli(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(process.execPath, [bin, '--data-dir', join(root, 'data'), ...args], { cwd: root, timeout: 90_000 }, (err, stdout, stderr) => {
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    child.stdin!.end(stdin ?? '');
  });
}

// one line per answer: a newline ends it (also exercises --stop)
const greedy = ['--temperature', '0', '--max-new-tokens', '8', '--stop', '\n'];

describe('lora-studio chat', () => {
  it('answers one prompt: JSON, streamed text, with an adapter, at scale 0 (= base), and side by side', async () => {
    const [streamed, zero, compare, nf4] = await Promise.all([
      cli(['chat', '--model', 'model', '--prompt', 'Hello', ...greedy]),
      cli(['chat', '--model', 'model', '--adapter', 'adapter-0', '--scale', '0', '--prompt', 'Hello', ...greedy, '--json']),
      cli(['chat', '--model', 'model', '--adapter', 'adapter-0', '--compare', '--prompt', 'Hello', ...greedy]),
      cli(['chat', '--model', 'model', '--load-in-4bit', '--double-quant', '--adapter', 'adapter-0', '--prompt', 'Hello', ...greedy, '--json']),
    ]);
    for (const r of [streamed, zero, compare, nf4]) expect(r.stderr + r.code).toMatch(/0$/);
    const [, baseText, tunedText] = /^\[base\] (.*)\n\[tuned\] (.*)\n$/s.exec(compare.stdout) ?? [];
    expect(baseText).toBeDefined();
    expect(tunedText).not.toBe(baseText); // the adapter changes the answer
    expect(compare.stderr).toMatch(/\[tuned\] \(\d+ tokens, (eos|length), [\d.]+ tokens\/s, (studio|llama\.cpp)\)/);
    expect(streamed.stdout).toBe(`${baseText}\n`);
    const z = JSON.parse(zero.stdout);
    expect(z.sampling).toMatchObject({ temperature: 0, maxNewTokens: 8, topK: 50 });
    expect(z.answers).toHaveLength(1);
    expect(z.answers[0]).toMatchObject({ pane: 'tuned', adapters: ['adapter-0'], finishReason: expect.stringMatching(/eos|length/) });
    expect(z.answers[0].text).toBe(baseText); // scale 0 = the base
    expect(JSON.parse(nf4.stdout).answers[0]).toMatchObject({ pane: 'tuned', adapters: ['adapter-0'], tokens: expect.any(Number) }); // QLoRA's 4-bit base
  });

  it('--backend studio and llama.cpp give the same greedy answer; --ship adds the exported GGUF as a pane', async () => {
    const args = ['chat', '--model', 'model', '--adapter', 'adapter-0', '--prompt', 'Hello', ...greedy, '--json'];
    const [studio, llama] = await Promise.all([cli([...args, '--backend', 'studio']), cli([...args, '--backend', 'llama.cpp', '--ship', 'Q8_0'])]);
    expect(studio.stderr + studio.code).toMatch(/0$/);
    expect(llama.stderr + llama.code).toMatch(/0$/);
    const [ours] = JSON.parse(studio.stdout).answers;
    const [theirs, shipped] = JSON.parse(llama.stdout).answers;
    expect(ours).toMatchObject({ pane: 'tuned', backend: 'studio' });
    expect(theirs).toMatchObject({ pane: 'tuned', backend: 'llama.cpp', text: ours.text, tokens: ours.tokens });
    expect(shipped).toMatchObject({ pane: 'shipped-q8_0', backend: 'llama.cpp', adapters: ['adapter-0'] });
  });

  it('runs an interactive conversation from stdin; /reset forgets it', async () => {
    const r = await cli(['chat', '--model', 'model', ...greedy, '--system', 'Be brief.'], 'Hello\nHow are you?\n/reset\nHello\n/exit\nignored\n');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.length).toBe(4); // three answers and the final newline
    expect(lines[2]).toBe(lines[0]); // after /reset the same first message gets the same (greedy) answer
    expect(r.stderr).toMatch(/conversation forgotten/);
  });

  it('refuses bad flags by name', async () => {
    const [topP, scale] = await Promise.all([cli(['chat', '--model', 'model', '--prompt', 'x', '--top-p', '2']), cli(['chat', '--model', 'model', '--adapter', 'adapter-0', '--scale', '1', '--scale', '2', '--prompt', 'x'])]);
    expect(topP.code).toBe(2);
    expect(topP.stderr).toMatch(/--top-p/);
    expect(scale.code).toBe(2);
    expect(scale.stderr).toMatch(/--scale given 2 times for 1 --adapter/);
    const backend = await cli(['chat', '--model', 'model', '--prompt', 'x', '--backend', 'vllm']);
    expect(backend.code).toBe(2);
    expect(backend.stderr).toMatch(/--backend: expected one of auto, studio, llama\.cpp, got "vllm"/);
  });
});
