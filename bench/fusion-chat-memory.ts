// Memory of a resident chat worker that answers a plain pane and an AdapterFusion pane (issue 15): what opening the
// fused pane adds to the worker, against the base model's f32 size measured in the same run. The fused program
// (base + each adapter's frozen branch + the trained attention) is decoded by a decode graph of its own; opened over
// the plain model's decoder it reads the base from that decoder's weight file (decode-session.ts shareBaseWith).
// PSS is the figure that shows it: the kernel counts a page RSS once per mapping, so the file's pages mapped by both
// graphs count twice in RSS though the machine holds them once. A Llama-shaped random model (~100 MB f32), two random
// adapters, a fusion folder with random attention written as `fuse` writes it; one process, the same LoadedModels a
// resident generate worker keeps: answer [base] → memory, then [base, fused] → memory.
//   node --expose-gc --import tsx bench/fusion-chat-memory.ts [--layers N] [--hidden H]
// Last line: `fusion_chat_memory base_mb=<b> plain_rss_mb=<p> with_fusion_rss_mb=<f> added_rss_vs_base=<x> added_pss_vs_base=<y>`.
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTinyModel, seededRandom } from '../tests/fixtures/tiny-models.ts';
import {
  defaultLoraConfig,
  initLoraAdapter,
  matchTargetModules,
  writeAdapter,
} from '../src/main/formats/peft/index.ts';
import { fuseProgram } from '../src/main/engine/fusion/program.ts';
import { frozen, readFusionInputs } from '../src/main/engine/fusion/session.ts';
import { fusionParts, writeFusionFolder } from '../src/main/formats/fusion/index.ts';
import { peftKey } from '../src/main/model/ir.ts';
import { answerPanes } from '../src/main/engine/generate/answer-panes.ts';
import { LoadedModels } from '../src/main/engine/generate/loaded-models.ts';
import type { GenerateJobParams } from '../src/common/api/chat.ts';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const layers = arg('layers', 8);
const hidden = arg('hidden', 512);

/** VmRSS, RssAnon (JS heap, native allocations), RssFile (mapped files: the weight files) and Pss in MB. Pss counts
 *  a page mapped twice (two graphs mapping one weight file's region) once, as the machine's memory holds it; RSS
 *  counts it per mapping. */
function rss(): { rss: number; anon: number; file: number; pss: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const status = readFileSync('/proc/self/status', 'utf8');
  const rollup = readFileSync('/proc/self/smaps_rollup', 'utf8');
  const kb = (text: string, key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(text)?.[1] ?? 0) / 1024;
  return { rss: kb(status, 'VmRSS'), anon: kb(status, 'RssAnon'), file: kb(status, 'RssFile'), pss: kb(rollup, 'Pss') };
}
/** Rss / Pss of the mapped weight files (weight-file.ts), by file name, in MB. */
function weightMaps(): string {
  const smaps = readFileSync('/proc/self/smaps', 'utf8').split('\n');
  const by = new Map<string, { rss: number; pss: number }>();
  let current: string | null = null;
  for (const line of smaps) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) current = head[1]!.includes('lora-studio-weights-') ? head[1]!.split('/').pop()! : null;
    else if (current) {
      const m = /^(Rss|Pss):\s+(\d+) kB/.exec(line);
      if (m) {
        const e = by.get(current) ?? { rss: 0, pss: 0 };
        e[m[1] === 'Rss' ? 'rss' : 'pss'] += Number(m[2]) / 1024;
        by.set(current, e);
      }
    }
  }
  return [...by].map(([f, e]) => `${f} rss ${e.rss.toFixed(0)} pss ${e.pss.toFixed(0)}`).join('; ') || 'none';
}
const fmt = (m: { rss: number; anon: number; file: number; pss: number }) =>
  `rss ${m.rss.toFixed(0)} MB (anon ${m.anon.toFixed(0)}, file ${m.file.toFixed(0)}), pss ${m.pss.toFixed(0)} MB`;

const root = await mkdtemp(join(tmpdir(), 'fusion-chat-memory-'));
try {
  const model = await makeTinyModel(join(root, 'model'), 'llama', {
    seed: 3,
    std: 0.05,
    layers,
    config: {
      hidden_size: hidden,
      intermediate_size: 3 * hidden,
      num_attention_heads: hidden / 64,
      num_key_value_heads: hidden / 128,
      head_dim: 64,
    },
  });
  const adapters: string[] = [];
  for (let i = 0; i < 2; i++) {
    const config = defaultLoraConfig({
      r: 8,
      lora_alpha: 16,
      target_modules: i === 0 ? ['q_proj', 'v_proj'] : ['q_proj', 'v_proj', 'down_proj'],
    });
    const random = seededRandom(100 + i);
    const adapter = initLoraAdapter(matchTargetModules(model.spec, config).targets, config, random);
    for (const l of adapter.layers.values()) for (let j = 0; j < l.B.length; j++) l.B[j] = (random() - 0.5) * 0.1;
    adapters.push(join(root, `adapter-${i}`));
    await writeAdapter(adapters[i]!, adapter);
  }
  const inputs = await readFusionInputs(model.dir, adapters);
  let baseBytes = 0;
  for (const w of inputs.baseWeights.values()) baseBytes += w.length * 4;
  const fused = fuseProgram(inputs.base, frozen(inputs), {
    mode: 'attention',
    perLayer: false,
    softmax: true,
    attentionDim: 16,
    valueRank: 4,
    seed: 1,
  });
  const random = seededRandom(7);
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const d of fused.program.params)
    if (d.trainable)
      tensors.set(peftKey(d.name), {
        shape: d.shape,
        data: Float32Array.from(fused.weights.get(d.name)!, (v) => v + (random() - 0.5) * 0.1),
      });
  const fusionDir = join(root, 'fusion');
  await writeFusionFolder(
    fusionDir,
    {
      mode: 'attention',
      base_model: model.dir,
      attention_dim: 16,
      value_rank: 4,
      adapters: await fusionParts(adapters),
      training_template: null,
    },
    tensors,
  );
  inputs.baseWeights.clear();

  const sampling = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, maxNewTokens: 8, seed: 0, stop: [] };
  const messages = [{ role: 'user', content: 'tell me about the sea' }];
  const params = (panes: GenerateJobParams['panes']): GenerateJobParams => ({
    model: model.dir,
    quant: 'none',
    backend: 'studio',
    baseGguf: 'f16',
    panes,
    sampling,
    threads: 2,
  });
  const kept = new LoadedModels();
  const hooks = { output: () => {}, log: (line: string) => console.log(`  ${line}`) };
  const before = rss();
  console.log(
    `model: ${layers} layers × ${hidden} hidden, base ${(baseBytes / 2 ** 20).toFixed(0)} MB f32; before loading: ${fmt(before)}`,
  );
  await answerPanes(params([{ id: 'base', adapters: [], messages }]), hooks, kept);
  const plain = rss();
  console.log(`plain pane open: ${fmt(plain)}`);
  await answerPanes(
    params([
      { id: 'base', adapters: [], messages },
      { id: 'fused', adapters: [{ path: fusionDir, weight: 1, name: 'fusion' }], messages },
    ]),
    hooks,
    kept,
  );
  const both = rss();
  console.log(`plain + fused panes open: ${fmt(both)}`);
  console.log(`  weight files mapped: ${weightMaps()}`);
  const held = (
    kept as unknown as {
      held: {
        fusions: Map<string, { fusion: Promise<{ decoder: { sharedBaseBytes: number; memory?: () => unknown } }> }>;
      };
    }
  ).held;
  const fusedDecoder = (await held.fusions.get(fusionDir)!.fusion).decoder;
  console.log(
    `  the fused graph reads ${(fusedDecoder.sharedBaseBytes / 2 ** 20).toFixed(1)} MB of the base from the plain graph's weight file; its own: ${JSON.stringify((fusedDecoder as unknown as { session: { memory(): unknown } }).session.memory())}`,
  );
  await kept.dispose();
  const mb = (b: number) => (b / 2 ** 20).toFixed(1);
  console.log(
    `fusion_chat_memory base_mb=${mb(baseBytes)} plain_rss_mb=${plain.rss.toFixed(1)} with_fusion_rss_mb=${both.rss.toFixed(1)} added_rss_vs_base=${((both.rss - plain.rss) / (baseBytes / 2 ** 20)).toFixed(2)} added_pss_vs_base=${((both.pss - plain.pss) / (baseBytes / 2 ** 20)).toFixed(2)}`,
  );
} finally {
  await rm(root, { recursive: true, force: true });
}
