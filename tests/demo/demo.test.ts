// `lora-studio demo`, shortened (fewer steps, a subset of the rows), run as a user would (bin/lora-studio.js in
// a child process) on the bundled default model and demo dataset. Checks: the eval perplexity falls by at least
// 20%; the tuned model answers in the learned pirate style where the base does not; the run is recorded in the
// Demo project with its metrics; the exported GGUF loads in a real llama.cpp (node-llama-cpp) and its perplexity
// on the eval rows agrees with the studio's figure within 1%.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getLlama, LlamaLogLevel, type Llama } from 'node-llama-cpp';
import { createStudioCore } from '../../src/main/core/index.ts';
import type { Evaluation, Run, RunMetric } from '../../src/common/api/runs.ts';
import { RunConfig } from '../../src/common/api/runs.ts';
import { DEFAULT_MODEL_DIR, DEMO_PROMPTS, demoRunConfig } from '../../src/main/cli/commands/demo.ts';
import { openModelFolder } from '../../src/main/formats/model/index.ts';
import { HfTokenizer, renderChat } from '../../src/main/formats/tokenizer/index.ts';
import { loadRunExamples } from '../../src/main/engine/data/run-examples.ts';
import { buildLlamaProgram, llamaConfigFromModelSpec } from '../../src/main/model/families/llama/program.ts';
import { createCpuTrainingSession } from '../../src/main/engine/executors/onnx/session.ts';

const bin = resolve(import.meta.dirname, '../../bin/lora-studio.js');
const root = mkdtempSync(join(tmpdir(), 'lora-demo-test-'));
const dataDir = join(root, 'data');
const STEPS = 80;
const TRAIN_ROWS = 640;
const LR = '4e-3';
/** The pirate style after a short run: greeting, answer, "Arr!" (the full demo's 120 steps spell "Ahoy, matey!"
 *  exactly; after 80 the greeting's spelling may still be settling, e.g. "Ahhy, matey!"). */
const PIRATE = /^Ah\w*, ma\w*! .*Arr!$/;
const EVAL_ROWS = 48;
const LLAMA_CPP_ROWS = 12; // full-vocabulary probabilities per position are slow to fetch from llama.cpp

interface DemoOutput {
  code: number;
  stdout: string;
  stderr: string;
  pplBefore: number;
  pplAfter: number;
  gguf: string;
}
let demo: DemoOutput;

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { maxBuffer: 16 << 20, env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        done({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

beforeAll(async () => {
  if (!existsSync(join(DEFAULT_MODEL_DIR, 'model.safetensors')))
    throw new Error(`${DEFAULT_MODEL_DIR}: the bundled default model is missing (npm run build:default-model)`);
  const out = await runCli([
    '--data-dir',
    dataDir,
    'demo',
    '--steps',
    String(STEPS),
    '--train-limit',
    String(TRAIN_ROWS),
    '--eval-limit',
    String(EVAL_ROWS),
    '--lr',
    LR,
  ]);
  const last = out.stdout.trim().split('\n').at(-1) ?? '';
  const m = /^demo ppl_before=([\d.]+) ppl_after=([\d.]+) gguf=(\S+)$/.exec(last);
  if (out.code !== 0 || !m)
    throw new Error(`demo failed (exit ${out.code}); last line "${last}"\n${out.stderr.slice(-3000)}`);
  demo = { ...out, pplBefore: Number(m[1]), pplAfter: Number(m[2]), gguf: m[3]! };
}, 600_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Greedy answers from a model folder, decoded with the engine's full forward (no generation code involved). */
async function greedyAnswers(modelDir: string, prompts: readonly string[], maxNew = 24): Promise<string[]> {
  const folder = await openModelFolder(modelDir);
  const program = buildLlamaProgram(llamaConfigFromModelSpec(folder.spec));
  const weights = new Map<string, Float32Array>();
  for (const d of program.params) weights.set(d.name, await folder.readHf(d.name));
  await folder.close();
  const tokenizer = HfTokenizer.load(modelDir);
  const session = await createCpuTrainingSession({ program, weights, seed: 0, threads: 1 });
  const V = folder.spec.vocabSize;
  const stop = new Set([tokenizer.tokenToId('<|im_end|>'), tokenizer.tokenToId('<|endoftext|>')]);
  const answers: string[] = [];
  for (const prompt of prompts) {
    const text = renderChat(tokenizer, [{ role: 'user', content: prompt }], { addGenerationPrompt: true });
    const ids = tokenizer.encode(text);
    const out: number[] = [];
    for (let i = 0; i < maxNew; i++) {
      const T = ids.length;
      const { logits } = await session.forward({
        B: 1,
        T,
        inputIds: Int32Array.from(ids),
        attentionMask: new Uint8Array(T).fill(1),
        labels: new Int32Array(T).fill(-100),
      });
      let best = 0;
      for (let v = 1; v < V; v++) if (logits[(T - 1) * V + v] > logits[(T - 1) * V + best]) best = v;
      if (stop.has(best)) break;
      ids.push(best);
      out.push(best);
    }
    answers.push(tokenizer.decode(out).trim());
  }
  await session.dispose();
  return answers;
}

describe('lora-studio demo (shortened)', () => {
  it('prints the summary and the last line; eval perplexity falls by at least 20%', () => {
    expect(demo.stdout).toMatch(/perplexity before\s+\d/);
    expect(demo.stdout).toMatch(/adapter size\s+[\d.]+ KiB/);
    expect(demo.pplBefore).toBeGreaterThan(1);
    expect(demo.pplAfter).toBeLessThanOrEqual(0.8 * demo.pplBefore);
    expect(existsSync(demo.gguf)).toBe(true);
    expect(existsSync(join(dirname(demo.gguf), 'merged', 'model.safetensors'))).toBe(true);
  });

  it('records the run with its metrics in the Demo project', async () => {
    const core = createStudioCore({ dataDir });
    try {
      const projects = (await core.invoke('projects.list', {})) as { id: string; name: string }[];
      const project = projects.find((p) => p.name === 'Demo');
      expect(project).toBeDefined();
      const runs = (await core.invoke('runs.list', { projectId: project!.id })) as Run[];
      expect(runs).toHaveLength(1);
      expect(runs[0]!.status).toBe('succeeded');
      expect(runs[0]!.summary!.steps).toBe(STEPS);
      const metrics = (await core.invoke('runs.metrics', { id: runs[0]!.id })) as RunMetric[];
      expect(metrics.filter((p) => p.values.loss !== undefined).length).toBe(STEPS);
      expect(metrics.some((p) => p.values.eval_perplexity !== undefined)).toBe(true);
      expect(
        core.store.exports
          .listByProject(project!.id)
          .map((e) => e.kind)
          .sort(),
      ).toEqual(['gguf', 'hf']);
    } finally {
      await core.close();
    }
  });

  it('the tuned (merged) model answers like a pirate; the base model does not', async () => {
    const merged = join(dirname(demo.gguf), 'merged');
    const tuned = await greedyAnswers(merged, DEMO_PROMPTS);
    const base = await greedyAnswers(DEFAULT_MODEL_DIR, DEMO_PROMPTS);
    for (const answer of tuned) expect(answer, `tuned: ${tuned.join(' | ')}`).toMatch(PIRATE);
    for (const answer of base) expect(answer, `base: ${base.join(' | ')}`).not.toMatch(/Ah\w*,|matey|Arr!/);
    // and the demo's own side by side (the app's chat: generate jobs, greedy) says the same
    const printed = (who: string) => [...demo.stdout.matchAll(new RegExp(`^  ${who}: +(.*)$`, 'gm'))].map((m) => m[1]!);
    expect(printed('tuned')).toEqual(tuned);
    expect(printed('base')).toEqual(base);
  }, 120_000);

  it('the GGUF loads in llama.cpp, generates, and its eval perplexity agrees with the studio within 1%', async () => {
    let llama: Llama | null = null;
    try {
      llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
      const model = await llama.loadModel({ modelPath: demo.gguf });
      // the eval rows exactly as the studio rendered and masked them for its perplexity
      const evalPath = join(dataDir, 'datasets', 'demo-subset', 'eval.jsonl');
      const config = RunConfig.parse(
        demoRunConfig({
          method: 'lora',
          steps: STEPS,
          model: DEFAULT_MODEL_DIR,
          trainPath: evalPath,
          evalPath,
          seed: 42,
          learningRate: Number(LR),
        }),
      );
      const tokenizer = HfTokenizer.load(DEFAULT_MODEL_DIR);
      const { eval: rows } = await loadRunExamples({ config, tokenizer });
      expect(rows).toHaveLength(EVAL_ROWS);
      // llama.cpp's tokenizer (from the GGUF) gives our ids
      expect(Array.from(model.tokenize(rows[0]!.text, true))).toEqual(Array.from(rows[0]!.ids));
      const context = await model.createContext({
        contextSize: 256,
        threads: 2,
        experimentalKvCacheKeyType: 'F32',
        experimentalKvCacheValueType: 'F32',
      });
      // the studio's own per-example NLL of the tuned model (the demo's "after" evaluation), on the first rows
      const core = createStudioCore({ dataDir });
      let studio: { index: number; tokens: number; adapterNll: number | null }[];
      try {
        const evaluations = (await core.invoke('evaluations.list', {})) as Evaluation[];
        const after = evaluations.find((e) => e.adapterPath !== null && e.status === 'succeeded');
        expect(after).toBeDefined();
        expect(after!.adapterPerplexity).toBeCloseTo(demo.pplAfter, 3);
        studio = ((await core.invoke('evaluations.get', { id: after!.id })) as { examples: typeof studio }).examples;
      } finally {
        await core.close();
      }
      const measured = studio.filter((e) => e.index < LLAMA_CPP_ROWS);
      expect(measured).toHaveLength(LLAMA_CPP_ROWS);
      const studioPpl = Math.exp(
        measured.reduce((a, e) => a + e.adapterNll!, 0) / measured.reduce((a, e) => a + e.tokens, 0),
      );
      let nll = 0;
      let count = 0;
      const seq = context.getSequence();
      for (const row of rows.slice(0, LLAMA_CPP_ROWS)) {
        await seq.clearHistory();
        const ids = Array.from(row.ids);
        // full-vocabulary probabilities at temperature 1 with no truncation = softmax of llama.cpp's logits
        const sampling = { temperature: 1, topK: 0, topP: 1, minP: 0 };
        const input = ids.map((t, i) =>
          i + 1 < ids.length && row.trained[i + 1]
            ? ([t, { generateNext: { probabilities: true, options: sampling } }] as const)
            : t,
        );
        const res = await seq.controlledEvaluate(input as unknown as Parameters<typeof seq.controlledEvaluate>[0]);
        for (let t = 1; t < ids.length; t++) {
          if (!row.trained[t]) continue;
          const probabilities = res[t - 1]?.next.probabilities;
          if (!probabilities) throw new Error(`llama.cpp returned no probabilities at position ${t - 1}`);
          nll -= Math.log(probabilities.get(ids[t] as never) ?? 0);
          count++;
        }
      }
      await seq.clearHistory();
      expect(count).toBe(measured.reduce((a, e) => a + e.tokens, 0));
      const ppl = Math.exp(nll / count);
      expect(Math.abs(ppl / studioPpl - 1)).toBeLessThan(0.01);

      const prompt = renderChat(tokenizer, [{ role: 'user', content: DEMO_PROMPTS[0] }], { addGenerationPrompt: true });
      const generated: number[] = [];
      for await (const t of seq.evaluate(model.tokenize(prompt, true), { temperature: 0 })) {
        generated.push(t);
        if (generated.length === 12 || t === tokenizer.tokenToId('<|im_end|>')) break;
      }
      expect(model.detokenize(generated as never)).toMatch(/^Ah\w*, ma\w*!/);
      await context.dispose();
      await model.dispose();
    } finally {
      await llama?.dispose();
    }
  }, 120_000);
});
