// bench:cpu, generation part — the studio's engine against llama.cpp on the same model: decode tokens/s and peak
// memory, each backend in its own process (so each peak RSS is its own), the same prompt ids, greedy, the same
// thread count. Two models: the bundled default model (resources/default-model, 4 layers × 256), and a SmolLM2-135M
// body (30 layers × 576, 9 heads / 3 KV heads, random weights) with the bundled tokenizer's 1,349-token vocabulary
// (a real 49,152-token vocabulary needs its tokenizer, which this machine does not have). llama.cpp reads the F32 GGUF
// our writer makes of the same folder. Prints one JSON line per model and backend, then
// `bench:cpu decode_vs_llama=<ours/theirs tokens/s> decode_rss_vs_llama=<ours/theirs peak RSS>` (the SmolLM2 body),
// then the same for the studio with its base held as f16 (`decode_f16_vs_llama=… decode_f16_rss_vs_llama=…`).
// Backends run interleaved: studio, studio-f16, llama.cpp, then again (--rounds N, default 1); ratios use the best
// tokens/s and the lowest peak RSS of each backend, so a burst of load on the shared machine hits all alike.
//   npx tsx bench/decode-vs-llama.ts   (both models)   --smol-only: the SmolLM2 body only   --rounds N
//   --one <backend> <dir> <threads> <gguf cache>: one measurement
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
type Backend = 'studio' | 'studio-f16' | 'llama.cpp';

async function measure(
  backend: Backend,
  dir: string,
  threads: number,
  cache: string,
): Promise<Record<string, number | string>> {
  const next = mulberry32(11);
  // each backend loads only its own runtime, so each process's peak RSS is that backend's
  const { ChatModel } =
    backend !== 'llama.cpp' ? await import('../src/main/engine/generate/chat-model.ts') : { ChatModel: null };
  const { generate } = await import('../src/main/engine/generate/generate.ts');
  const { LlamaCppModel } = await import('../src/main/engine/generate/llama-cpp.ts');
  const chat = ChatModel
    ? await ChatModel.open(dir, { threads, baseDtype: backend === 'studio-f16' ? 'f16' : 'f32' })
    : null;
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
      JSON.stringify(await measure(args[one + 1] as Backend, args[one + 2]!, Number(args[one + 3]), args[one + 4]!)),
    );
    return;
  }
  const work = mkdtempSync(join(tmpdir(), 'bench-decode-'));
  try {
    const threads = Math.max(1, availableParallelism() - 1); // llama.cpp's default here (see llamaThreads); the same for both
    const rounds = args.includes('--rounds') ? Number(args[args.indexOf('--rounds') + 1]) : 1;
    const smol = await smolBody(mkdtempSync(join(work, 'smol-')));
    const models: Record<string, string> = args.includes('--smol-only')
      ? { 'smollm2-body': smol }
      : { bundled: BUNDLED_MODEL_DIR, 'smollm2-body': smol };
    const last: Record<string, Record<string, number>> = {};
    for (const [name, dir] of Object.entries(models)) {
      await cachedModelGguf(join(work, 'gguf'), dir, 'f32'); // converted here: the llama.cpp process only loads it
      const best: Record<string, Record<string, number>> = {};
      for (let round = 0; round < rounds; round++)
        for (const backend of ['studio', 'studio-f16', 'llama.cpp']) {
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
          console.log(JSON.stringify({ case: `decode-${name}`, round, ...r }));
          const b = best[backend];
          best[backend] = b
            ? {
                ...r,
                decode_tokens_per_s: Math.max(b.decode_tokens_per_s!, r.decode_tokens_per_s!),
                peak_rss_mib: Math.min(b.peak_rss_mib!, r.peak_rss_mib!),
              }
            : r;
        }
      Object.assign(last, best);
    }
    const theirs = last['llama.cpp'];
    const ratio = (ours: Record<string, number> | undefined, key: string) =>
      ours && theirs ? (ours[key]! / theirs[key]!).toFixed(2) : 'failed';
    console.log(
      `bench:cpu decode_vs_llama=${ratio(last.studio, 'decode_tokens_per_s')} decode_rss_vs_llama=${ratio(last.studio, 'peak_rss_mib')} decode_f16_vs_llama=${ratio(last['studio-f16'], 'decode_tokens_per_s')} decode_f16_rss_vs_llama=${ratio(last['studio-f16'], 'peak_rss_mib')}`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
