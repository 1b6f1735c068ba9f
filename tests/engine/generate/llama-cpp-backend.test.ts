// The llama.cpp backend against the studio's engine (the reference) on the same prompt ids: the bundled model and
// every family we build tiny models for, without adapters and with two LoRA GGUFs attached at once with their
// scales. The next-token logits must agree (as log-softmax, relative to the logit scale; the base and adapters are
// F32 GGUFs written by our writer, llama.cpp's KV cache F32) and greedy decoding must give the same tokens.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatModel } from '../../../src/main/engine/generate/chat-model.ts';
import { generate } from '../../../src/main/engine/generate/generate.ts';
import {
  cachedLoraGguf,
  cachedModelGguf,
  LlamaCppModel,
  type LlamaLora,
} from '../../../src/main/engine/generate/llama-cpp.ts';
import {
  defaultLoraConfig,
  initLoraAdapter,
  matchTargetModules,
  writeAdapter,
} from '../../../src/main/formats/peft/index.ts';
import { makeTinyModel, seededRandom, TINY_FAMILIES } from '../../fixtures/tiny-models.ts';
import { BUNDLED_MODEL_DIR } from '../../../src/main/core/bundled.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'llama-backend-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const greedy = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0, stop: [] as string[] };

/** Largest |log-softmax(ours) − theirs| relative to our logits' scale. */
function logitError(ours: ArrayLike<number>, theirs: Float64Array): number {
  expect(theirs.length).toBe(ours.length);
  let max = -Infinity;
  let scale = 0;
  for (let i = 0; i < ours.length; i++) {
    max = Math.max(max, ours[i]!);
    scale = Math.max(scale, Math.abs(ours[i]!));
  }
  let sum = 0;
  for (let i = 0; i < ours.length; i++) sum += Math.exp(ours[i]! - max);
  const lse = max + Math.log(sum);
  let worst = 0;
  for (let i = 0; i < ours.length; i++) worst = Math.max(worst, Math.abs(ours[i]! - lse - theirs[i]!));
  expect(scale).toBeGreaterThan(0.1); // logits that carry signal, so agreement means something
  return worst / scale;
}

/**
 * Both backends on one model folder and prompt: logits after the prompt and a greedy answer, with no adapters and
 * with `adapters` attached at their scales.
 */
async function compareBackends(
  modelDir: string,
  promptIds: number[],
  adapters: { path: string; weight: number }[],
  tolerance: number,
  maxNewTokens: number,
) {
  const cache = join(dir, 'gguf');
  const engine = await ChatModel.open(modelDir, { threads: 1 });
  const llama = await LlamaCppModel.open((await cachedModelGguf(cache, modelDir, 'f32')).file, {
    threads: 1,
    exact: true,
  });
  try {
    const loaded = await Promise.all(adapters.map((a) => engine.loadAdapter(a.path)));
    const loras: LlamaLora[] = await Promise.all(
      adapters.map(async (a) => ({ file: (await cachedLoraGguf(cache, modelDir, a.path)).file, scale: a.weight })),
    );
    const results = [];
    for (const withAdapters of [false, true]) {
      const view = engine.decoder.withAdapters(
        withAdapters ? loaded.map((l, i) => ({ adapter: l.factors, weight: adapters[i]!.weight })) : [],
      );
      const V = view.vocab;
      const logits = await view.forward(view.newCache(), promptIds);
      const ours = logits.subarray((promptIds.length - 1) * V, promptIds.length * V);
      const error = logitError(ours, await llama.logProbs(promptIds, withAdapters ? loras : []));
      const o = { ...greedy, maxNewTokens, eosTokenIds: engine.eosTokenIds };
      const a = await generate(view, engine.tokenizer, promptIds, o);
      const b = await llama.answer(promptIds, withAdapters ? loras : [], engine.tokenizer, o);
      expect(error).toBeLessThan(tolerance);
      expect(b.tokenIds).toEqual(a.tokenIds);
      expect(b.text).toBe(a.text);
      expect(b.finishReason).toBe(a.finishReason);
      results.push({ error, tokens: a.tokenIds.length, logits: Float64Array.from(ours) });
    }
    return results;
  } finally {
    await llama.dispose();
    await engine.dispose();
  }
}

async function twoAdapters(
  modelDir: string,
  spec: Parameters<typeof matchTargetModules>[0],
  gpt2: boolean,
  seed: number,
) {
  const targets = gpt2
    ? [['c_attn'], ['c_fc', 'c_proj']]
    : [
        ['q_proj', 'v_proj', 'down_proj'],
        ['k_proj', 'o_proj', 'up_proj'],
      ];
  const out: string[] = [];
  for (const [i, target_modules] of targets.entries()) {
    const config = defaultLoraConfig({
      r: 4,
      lora_alpha: 8,
      target_modules,
      ...(gpt2 ? { fan_in_fan_out: true } : {}),
    });
    const random = seededRandom(seed + i);
    const adapter = initLoraAdapter(matchTargetModules(spec, config).targets, config, random);
    for (const l of adapter.layers.values()) for (let j = 0; j < l.B.length; j++) l.B[j] = (random() - 0.5) * 0.6;
    const path = join(modelDir, '..', `${seed}-adapter-${i}`);
    await writeAdapter(path, adapter);
    out.push(path);
  }
  return out;
}

describe('llama.cpp backend = the studio engine', () => {
  it('the bundled model: same logits (≤ 1e-4 of their scale) and the same greedy answer to a chat prompt', async () => {
    const engine = await ChatModel.open(BUNDLED_MODEL_DIR, { threads: 1 });
    const ids = engine.promptIds([{ role: 'user', content: 'What does a LoRA adapter change in a model?' }]);
    await engine.dispose();
    const [plain] = await compareBackends(BUNDLED_MODEL_DIR, ids, [], 1e-4, 24);
    expect(plain!.tokens).toBeGreaterThan(3);
  });

  // GELU runs through ggml's f16 lookup table on the CPU, so GPT-2 and Gemma 3 agree to ~1e-3 (see the GGUF tests).
  for (const family of TINY_FAMILIES) {
    it(`${family}: same logits and greedy tokens, bare and with two LoRA GGUFs at scales 0.8 and −0.5`, async () => {
      // llama.cpp's Gemma 3 has a fixed pattern: every sixth layer global, the others sliding
      const gemma = {
        layers: 6,
        config: {
          layer_types: Array.from({ length: 6 }, (_, i) =>
            (i + 1) % 6 === 0 ? 'full_attention' : 'sliding_attention',
          ),
        },
      };
      const tiny = await makeTinyModel(join(dir, family), family, {
        seed: 7,
        std: 0.3,
        ...(family === 'gemma3' ? gemma : {}),
      });
      const adapters = await twoAdapters(tiny.dir, tiny.spec, family === 'gpt2', 300);
      const tolerance = family === 'gpt2' || family === 'gemma3' ? 3e-3 : 1e-4;
      const prompt = [5, 300, 17, 42, 511, 260, 99, 7];
      const [bare, tuned] = await compareBackends(
        tiny.dir,
        prompt,
        [
          { path: adapters[0]!, weight: 0.8 },
          { path: adapters[1]!, weight: -0.5 },
        ],
        tolerance,
        12,
      );
      expect(bare!.tokens + tuned!.tokens).toBeGreaterThan(2);
      // the adapters really change the model (so agreeing with them attached means llama.cpp applied them)
      expect(Math.max(...bare!.logits.map((v, i) => Math.abs(v - tuned!.logits[i]!)))).toBeGreaterThan(0.05);
    });
  }
});
