// bench:cpu, generation part — the studio's engine against llama.cpp on the same model: decode tokens/s and peak
// memory, each backend in its own process (so each peak RSS is its own), the same prompt ids, greedy, the same
// thread count. Two models: the bundled default model (resources/default-model, 4 layers × 256), and a SmolLM2-135M
// body (30 layers × 576, 9 heads / 3 KV heads, random weights) with the bundled tokenizer's 1,349-token vocabulary
// (a real 49,152-token vocabulary needs its tokenizer, which this machine does not have). llama.cpp reads the F32 GGUF
// our writer makes of the same folder. Prints one JSON line per model and backend, then
// `bench:cpu decode_vs_llama=<ours/theirs tokens/s> decode_rss_vs_llama=<ours/theirs peak RSS>` (the SmolLM2 body).
//   npx tsx bench/decode-vs-llama.ts            (both models)   --one <backend> <dir> <threads>: one measurement
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cachedModelGguf } from '../src/main/engine/generate/llama-cpp.ts';
import { mulberry32 } from '../src/main/engine/rng.ts';
import { specFromConfig, tensorTable } from '../src/main/formats/model/index.ts';
import { writeSafetensors } from '../src/main/formats/safetensors/write.ts';
import { BUNDLED_MODEL_DIR } from '../src/main/core/bundled.ts';

const PROMPT = 64;
const NEW = 64;

/** A SmolLM2-135M body with random weights and the bundled model's tokenizer. */
async function smolBody(dir: string): Promise<string> {
  const bundled = (await import(join(BUNDLED_MODEL_DIR, 'config.json'), { with: { type: 'json' } })).default as Record<
    string,
    unknown
  >;
  const config = {
    ...bundled,
    hidden_size: 576,
    intermediate_size: 1536,
    num_hidden_layers: 30,
    num_attention_heads: 9,
    num_key_value_heads: 3,
    head_dim: 64,
    rope_theta: 100000,
    max_position_embeddings: 2048,
  };
  const spec = specFromConfig(config, join(dir, 'config.json'));
  const next = mulberry32(7);
  const tensors = tensorTable(spec).map((e) => {
    const data = new Float32Array(e.shape.reduce((a, b) => a * b, 1));
    if (/norm/.test(e.hfName)) data.fill(1);
    else for (let i = 0; i < data.length; i++) data[i] = (next() - 0.5) * 0.04;
    return { name: e.hfName, dtype: 'F32' as const, shape: e.shape, data };
  });
  await writeSafetensors(join(dir, 'model.safetensors'), tensors);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json'])
    copyFileSync(join(BUNDLED_MODEL_DIR, f), join(dir, f));
  return dir;
}

/** One backend on one model folder in this process: prefill a prompt, then NEW greedy tokens (EOS ignored). */
async function measure(
  backend: 'studio' | 'llama.cpp',
  dir: string,
  threads: number,
  cache: string,
): Promise<Record<string, number | string>> {
  const next = mulberry32(11);
  // each backend loads only its own runtime, so each process's peak RSS is that backend's
  const { ChatModel } =
    backend === 'studio' ? await import('../src/main/engine/generate/chat-model.ts') : { ChatModel: null };
  const { generate } = await import('../src/main/engine/generate/generate.ts');
  const { LlamaCppModel } = await import('../src/main/engine/generate/llama-cpp.ts');
  const chat = ChatModel ? await ChatModel.open(dir, { threads }) : null;
  const tokenizer = { decode: () => '' };
  const opts = {
    temperature: 0,
    topK: 0,
    topP: 1,
    repetitionPenalty: 1,
    seed: 0,
    maxNewTokens: NEW,
    eosTokenIds: [],
    stop: [],
  };
  const llama = chat ? null : await LlamaCppModel.open((await cachedModelGguf(cache, dir, 'f32')).file, { threads });
  const vocab = chat
    ? chat.decoder.vocab
    : Number(
        ((await import(join(dir, 'config.json'), { with: { type: 'json' } })).default as { vocab_size: number })
          .vocab_size,
      );
  const prompt = Array.from({ length: PROMPT }, () => Math.floor(next() * vocab));
  const run = (ids: number[], o: typeof opts) =>
    chat ? generate(chat.decoder.withAdapters([]), tokenizer, ids, o) : llama!.answer(ids, [], tokenizer, o);
  await run(prompt.slice(0, 8), { ...opts, maxNewTokens: 4 }); // warm-up
  const r = await run(prompt, opts);
  await chat?.dispose();
  await llama?.dispose();
  return {
    backend,
    threads,
    prompt_tokens: PROMPT,
    new_tokens: r.tokenIds.length,
    prefill_s: +r.prefillSeconds.toFixed(3),
    decode_tokens_per_s: +r.decodeTokensPerSecond.toFixed(1),
    peak_rss_mib: Math.round(process.resourceUsage().maxRSS / 1024),
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const one = args.indexOf('--one');
  if (one >= 0) {
    console.log(
      JSON.stringify(
        await measure(args[one + 1] as 'studio' | 'llama.cpp', args[one + 2]!, Number(args[one + 3]), args[one + 4]!),
      ),
    );
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'bench-decode-'));
  try {
    const threads = Math.max(1, availableParallelism() - 1); // llama.cpp's default here (see llamaThreads); the same for both
    const models = { bundled: BUNDLED_MODEL_DIR, 'smollm2-body': await smolBody(mkdtempSync(join(work, 'smol-'))) };
    const last: Record<string, Record<string, number>> = {};
    for (const [name, dir] of Object.entries(models)) {
      await cachedModelGguf(join(work, 'gguf'), dir, 'f32'); // converted here: the llama.cpp process only loads it
      for (const backend of ['studio', 'llama.cpp']) {
        const child = spawnSync(
          process.execPath,
          [
            '--import',
            'tsx',
            fileURLToPath(import.meta.url),
            '--one',
            backend,
            dir,
            String(threads),
            join(work, 'gguf'),
          ],
          { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
        );
        const line = child.stdout.trim().split('\n').at(-1) ?? '';
        if (!line.startsWith('{')) {
          console.log(`${name}-${backend}: failed (exit ${child.status})`);
          continue;
        }
        const r = JSON.parse(line) as Record<string, number>;
        console.log(JSON.stringify({ case: `decode-${name}`, ...r }));
        last[backend] = r;
      }
    }
    const [ours, theirs] = [last.studio, last['llama.cpp']];
    if (ours && theirs)
      console.log(
        `bench:cpu decode_vs_llama=${(ours.decode_tokens_per_s! / theirs.decode_tokens_per_s!).toFixed(2)} decode_rss_vs_llama=${(ours.peak_rss_mib! / theirs.peak_rss_mib!).toFixed(2)}`,
      );
    else console.log('bench:cpu decode_vs_llama=failed decode_rss_vs_llama=failed');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
