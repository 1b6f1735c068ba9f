// `lora-studio chat --adapter <fusion folder>` (issue 15): a greedy answer through the CLI (core → resident generate
// worker) is the one answerPanes gives in-process for the same fusion; --backend llama.cpp is refused (exit 2)
// with the reason and the learned-weights variant; --compare answers base and fused side by side.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeChatFixture, type ChatFixture } from '../engine/generate/fixtures.ts';
import { answerPanes } from '../../src/main/engine/generate/answer-panes.ts';
import { fuseProgram } from '../../src/main/engine/fusion/program.ts';
import { frozen, readFusionInputs } from '../../src/main/engine/fusion/session.ts';
import { fusionParts, writeFusionFolder } from '../../src/main/formats/fusion/index.ts';
import { peftKey } from '../../src/main/model/ir.ts';
import { seededRandom } from '../fixtures/tiny-models.ts';

const bin = resolve(import.meta.dirname, '../../bin/lora-studio.js');
const root = mkdtempSync(join(tmpdir(), 'lora-cli-chat-fusion-'));
let fx: ChatFixture;
let fusionDir: string;

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(process.execPath, [bin, '--data-dir', join(root, 'data'), ...args], { timeout: 180_000 }, (error, stdout, stderr) =>
      done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end();
  });
}

beforeAll(async () => {
  fx = await makeChatFixture(join(root, 'fx'), { adapters: 2 });
  const inputs = await readFusionInputs(fx.model.dir, fx.adapters);
  const fused = fuseProgram(inputs.base, frozen(inputs), { mode: 'attention', perLayer: false, softmax: true, attentionDim: 4, valueRank: 2, seed: 1 });
  const random = seededRandom(3);
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const d of fused.program.params) if (d.trainable) tensors.set(peftKey(d.name), { shape: d.shape, data: Float32Array.from(fused.weights.get(d.name)!, () => random() - 0.5) });
  fusionDir = join(root, 'fusion');
  await writeFusionFolder(fusionDir, { mode: 'attention', base_model: fx.model.dir, attention_dim: 4, value_rank: 2, adapters: await fusionParts(fx.adapters), training_template: null }, tensors);
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const greedy = ['--temperature', '0', '--max-new-tokens', '8', '--repetition-penalty', '1'];

describe('lora-studio chat with a fusion folder', () => {
  it('answers greedily as the engine does in-process, beside the base with --compare', async () => {
    const r = await cli('chat', '--model', fx.model.dir, '--adapter', fusionDir, '--prompt', 'hello there', '--compare', '--json', ...greedy);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const got = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { answers: { pane: string; text: string; backend: string }[] };
    const want = await answerPanes(
      {
        model: fx.model.dir, quant: 'none', backend: 'studio', baseGguf: 'f16',
        sampling: { temperature: 0, topK: 50, topP: 0.9, repetitionPenalty: 1, maxNewTokens: 8, seed: 0, stop: [] },
        panes: [{ id: 'tuned', adapters: [{ path: fusionDir, weight: 1 }], messages: [{ role: 'user', content: 'hello there' }] }],
      },
      { output: () => {}, log: () => {} },
    );
    const tuned = got.answers.find((a) => a.pane === 'tuned')!;
    expect(tuned.backend).toBe('studio'); // auto picks the studio engine for a fusion
    expect(tuned.text).toBe(want.answers[0].text);
    expect(got.answers.map((a) => a.pane).sort()).toEqual(['base', 'tuned']);
  }, 240_000);

  it('refuses --backend llama.cpp saying why, before loading anything', async () => {
    const r = await cli('chat', '--model', fx.model.dir, '--adapter', fusionDir, '--prompt', 'hi', '--backend', 'llama.cpp');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/llama\.cpp cannot answer with the AdapterFusion combination .*learned-weights variant \(lora-studio fuse --mode weights\)/);
  }, 60_000);
});
