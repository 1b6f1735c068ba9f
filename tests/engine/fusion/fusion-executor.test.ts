// A fusion run trains on the executor the run names, as every run does (issue 15): `executor` cpu as asked; 'cuda'
// without a usable GPU refused with train's sentence before any weight or adapter is read (a model folder with no
// weights and adapters that do not exist still get that sentence); 'auto' with a GPU (the native addon replaced by
// the float64 plan harness, tests/native/fake-addon.ts) trains the fused program on the CUDA executor with the CPU
// session's loss, gradients and learned combination, in weights and attention mode — and the comparisons' sessions
// run there too. `lora-studio fuse --device cuda` on this machine (no GPU) fails with that sentence, not a stack.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunConfig } from '../../../src/common/api/runs.ts';
import { compareCombinations, openFusionSession, type FusionExecutorOptions } from '../../../src/main/engine/fusion/session.ts';
import { openEncoderFusion } from '../../../src/main/engine/fusion/encoder.ts';
import { peftKey, type Program } from '../../../src/main/model/ir.ts';
import { probeCuda } from '../../../src/main/engine/executors/cuda/probe.ts';
import { loadAddon } from '../../../src/main/engine/executors/cuda/addon.ts';
import { BUNDLED_ENCODER_DIR } from '../../../src/main/core/bundled.ts';
import { makeChatFixture, type ChatFixture } from '../generate/fixtures.ts';
import { tinyBatch } from '../tiny.ts';
import { relErr } from '../helpers.ts';
import { fakeAddon } from '../../native/fake-addon.ts';

const noGpu = () => ({ available: false, device: null, reason: 'no NVIDIA driver (libcuda.so.1 not found)' });
const REFUSAL = 'the CUDA executor is not available: no NVIDIA driver (libcuda.so.1 not found). Use --device cpu (executor "cpu"), or "auto" to fall back to the CPU.';
const update = { lr: 5e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1 };

let root: string;
let fx: ChatFixture;
let data: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fusion-executor-'));
  fx = await makeChatFixture(root, { adapters: 2 });
  data = join(root, 'mix.jsonl');
  await writeFile(data, Array.from({ length: 8 }, (_, i) => JSON.stringify({ prompt: `item ${i} is`, completion: ` red ${i}` })).join('\n') + '\n');
}, 120_000);
afterAll(() => rm(root, { recursive: true, force: true }));

const config = (mode: 'weights' | 'attention', executor: 'auto' | 'cpu' | 'cuda', over: { model?: string; adapters?: string[] } = {}) =>
  RunConfig.parse({
    model: over.model ?? fx.model.dir,
    dataset: { path: data, template: { kind: 'plain' }, eval_split: { kind: 'none' } },
    fusion: { adapters: over.adapters ?? fx.adapters, mode, attention_dim: 4, value_rank: 2 },
    micro_batch_size: 2,
    max_seq_length: 5,
    executor,
  });

describe('fusion runs choose their executor like every run', () => {
  it('cpu as asked, and says so', async () => {
    const o = await openFusionSession(config('weights', 'cpu'), null);
    await o.session.dispose();
    expect(o.executor).toEqual({ name: 'cpu', reason: 'asked for the CPU executor' });
  });

  it('--device cuda without a GPU: refused with train’s sentence before any weight or adapter is read', async () => {
    // a model folder with its config.json only, adapters that do not exist: reading either would fail otherwise
    const bare = join(root, 'bare');
    await mkdir(bare, { recursive: true });
    await copyFile(join(fx.model.dir, 'config.json'), join(bare, 'config.json'));
    const missing = [join(root, 'nope-1'), join(root, 'nope-2')];
    const probe: FusionExecutorOptions = () => ({ probe: noGpu });
    await expect(openFusionSession(config('attention', 'cuda', { model: bare, adapters: missing }), null, undefined, probe)).rejects.toThrow(REFUSAL);
    // encoder classification fusions too (their config.json only; the adapters' heads never read)
    const encoder = join(root, 'bare-encoder');
    await mkdir(encoder, { recursive: true });
    await copyFile(join(BUNDLED_ENCODER_DIR, 'config.json'), join(encoder, 'config.json'));
    await expect(openEncoderFusion(config('weights', 'cuda', { model: encoder, adapters: missing }), ['a', 'b'], undefined, probe)).rejects.toThrow(REFUSAL);
    // auto without a GPU: the CPU, saying why
    const auto = await openFusionSession(config('weights', 'auto'), null, undefined, probe);
    await auto.session.dispose();
    expect(auto.executor).toEqual({ name: 'cpu', reason: 'auto: CPU (no NVIDIA driver (libcuda.so.1 not found))' });
  });

  for (const mode of ['weights', 'attention'] as const)
    it(`${mode}: auto with a GPU trains the fused program on CUDA with the CPU's loss, gradients and update`, async () => {
      const addons: { program: Program; addon: ReturnType<typeof fakeAddon> }[] = [];
      const withAddon: FusionExecutorOptions = (program) => {
        const addon = fakeAddon(program);
        addons.push({ program, addon });
        return { addon };
      };
      const gpu = await openFusionSession(config(mode, 'auto'), null, undefined, withAddon);
      const cpu = await openFusionSession(config(mode, 'cpu'), null);
      try {
        expect(gpu.executor).toEqual({ name: 'cuda', reason: 'auto: CUDA on fake' });
        // the session was created by the addon built for the fused program, its slots sized for the run's micro-batch
        const used = addons.filter((a) => a.addon.sessions.length > 0);
        expect(used).toHaveLength(1);
        expect(used[0].program).toBe(gpu.fused.program);
        expect(used[0].addon.sessions[0].capacityTokens).toBe(2 * 5);
        const batch = tinyBatch(fx.model.spec.vocabSize, 5);
        for (let step = 0; step < 2; step++) {
          const [a, b] = [await cpu.session.microStep(batch), await gpu.session.microStep(batch)];
          expect(b.tokens).toBe(a.tokens);
          expect(Math.abs(b.lossSum - a.lossSum) / a.lossSum).toBeLessThan(1e-4);
          const [ua, ub] = [await cpu.session.applyUpdate(update), await gpu.session.applyUpdate(update)];
          expect(Math.abs(ub.gradNorm - ua.gradNorm) / ua.gradNorm).toBeLessThan(1e-3);
        }
        const [ta, tb] = [cpu.session.getTrainables(), gpu.session.getTrainables()];
        expect([...tb.keys()]).toEqual([...ta.keys()]);
        let moved = 0;
        for (const d of cpu.fused.program.params.filter((p) => p.trainable)) {
          const [a, b] = [ta.get(peftKey(d.name))!.data, tb.get(peftKey(d.name))!.data];
          expect(relErr(b, a), d.name).toBeLessThan(1e-3);
          moved += Math.max(...Array.from(a, (v, i) => Math.abs(v - cpu.fused.weights.get(d.name)![i])));
        }
        expect(moved).toBeGreaterThan(1e-3); // the combination did train
        if (mode === 'weights') {
          // the comparison (each adapter alone, uniform) opens its weights-mode session where the run trains
          const before = addons.length;
          const evaluate = async (s: { evaluate: typeof gpu.session.evaluate }) => (await s.evaluate(batch)).nllPerSequence[0];
          const onGpu = await compareCombinations(gpu.inputs, 1, evaluate, null, undefined, gpu.on);
          const onCpu = await compareCombinations(cpu.inputs, 1, evaluate, null, undefined, cpu.on);
          expect(addons.length).toBeGreaterThan(before);
          expect(addons.at(-1)!.addon.sessions).toHaveLength(1);
          for (let k = 0; k < 2; k++) expect(onGpu.single[k].value).toBeCloseTo(onCpu.single[k].value, 3);
          expect(onGpu.uniform).toBeCloseTo(onCpu.uniform, 3);
        }
      } finally {
        await gpu.session.dispose();
        await cpu.session.dispose();
      }
    }, 120_000);
});

describe('lora-studio fuse --device cuda', () => {
  // where a GPU really is, the run would train there: the refusal is for machines without one (these)
  it.skipIf(probeCuda(loadAddon).available)('fails with train’s sentence, not a stack', async () => {
    const bin = resolve(import.meta.dirname, '../../../bin/lora-studio.js');
    const args = ['--data-dir', join(root, 'data'), 'fuse', '--base', fx.model.dir, '--adapter', fx.adapters[0], '--adapter', fx.adapters[1],
      '--dataset', data, '--eval-ratio', '0.25', '--max-steps', '1', '--template', 'plain', '--device', 'cuda'];
    const r = await new Promise<{ code: number; out: string }>((done) =>
      execFile(process.execPath, [bin, ...args], { timeout: 300_000 }, (err, stdout, stderr) =>
        done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
      ),
    );
    expect(r.code).not.toBe(0);
    expect(r.out).toMatch(/the CUDA executor is not available: .*Use --device cpu \(executor "cpu"\), or "auto" to fall back to the CPU\./);
    expect(r.out).not.toMatch(/\n\s+at /);
  }, 300_000);
});
