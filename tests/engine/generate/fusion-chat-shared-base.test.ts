// A fused chat pane beside a plain one (issue 15): the fusion's decode graph, opened over the plain model's decoder,
// reads the base where that decoder's weight file holds it — whole tensors, and members cut out of its stacked ones
// (the fused program stacks q/k/v otherwise) — and stores only the adapters' branches and the attention. The answers
// must not change: its logits equal those of the same fusion opened alone, to float32 rounding; two fusions sharing
// one base keep their own trained tensors (same names, different values); the shared file is stored once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeChatFixture, type ChatFixture } from './fixtures.ts';
import { ChatModel } from '../../../src/main/engine/generate/chat-model.ts';
import { openFusionChat, type FusionChat } from '../../../src/main/engine/generate/fusion-chat.ts';
import { fuseProgram } from '../../../src/main/engine/fusion/program.ts';
import { frozen, readFusionInputs } from '../../../src/main/engine/fusion/session.ts';
import { fusionParts, writeFusionFolder } from '../../../src/main/formats/fusion/index.ts';
import { peftKey } from '../../../src/main/model/ir.ts';
import { seededRandom } from '../../fixtures/tiny-models.ts';

let root: string;
let fx: ChatFixture;
const fusionDirs: string[] = [];

/** A trained-looking fusion folder (random attention, a value that is not the identity), as `fuse` writes it. */
async function writeFusion(dir: string, seed: number): Promise<void> {
  const inputs = await readFusionInputs(fx.model.dir, fx.adapters);
  const fused = fuseProgram(inputs.base, frozen(inputs), { mode: 'attention', perLayer: false, softmax: true, attentionDim: 4, valueRank: 2, seed: 1 });
  const random = seededRandom(seed);
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const d of fused.program.params)
    if (d.trainable) tensors.set(peftKey(d.name), { shape: d.shape, data: Float32Array.from(fused.weights.get(d.name)!, () => (random() - 0.5) * 1.5) });
  await writeFusionFolder(dir, { mode: 'attention', base_model: fx.model.dir, attention_dim: 4, value_rank: 2, adapters: await fusionParts(fx.adapters), training_template: null }, tensors);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'fusion-shared-base-'));
  // two adapters over different modules (q/v/down, o/up): the fused program's linears group differently from the
  // base's q+k+v and gate+up stacks
  fx = await makeChatFixture(root, { adapters: 2 });
  for (const [i, seed] of [77, 91].entries()) {
    fusionDirs.push(join(root, `fusion-${i}`));
    await writeFusion(fusionDirs[i]!, seed);
  }
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function logits(f: FusionChat, ids: number[]): Promise<Float32Array> {
  const view = f.decoder.withAdapters([]);
  return Float32Array.from(await view.forward(view.newCache(), ids));
}

const memory = (f: FusionChat | ChatModel) => (f.decoder as unknown as { session: { memory(): { weightFileBytes: number } } }).session.memory();

describe('a fused chat graph over the plain model’s decoder', () => {
  it('reads the base from the plain graph’s weight file and answers exactly as the fusion opened alone', async () => {
    const plain = await ChatModel.open(fx.model.dir, { threads: 1 });
    const opened: FusionChat[] = [];
    try {
      const ids = plain.promptIds([{ role: 'user', content: 'tell me about the sea and the wind' }] as never);
      const alone = await Promise.all(fusionDirs.map((d) => openFusionChat(d, fx.model.dir, { threads: 1 })));
      opened.push(...alone);
      // both at once, as two panes of one turn would open them
      const shared = await Promise.all(fusionDirs.map((d) => openFusionChat(d, fx.model.dir, { threads: 1, base: plain.decoder })));
      opened.push(...shared);
      const baseBytes = memory(plain).weightFileBytes;
      for (const [i, f] of shared.entries()) {
        expect(f.decoder.sharedBaseBytes).toBe(baseBytes);
        expect(alone[i]!.decoder.sharedBaseBytes).toBe(0);
        // what it stores itself: the adapters' branches and the attention, not the base again
        expect(memory(f).weightFileBytes).toBeLessThan(memory(alone[i]!).weightFileBytes - 0.95 * baseBytes);
        const want = await logits(alone[i]!, ids);
        const got = await logits(f, ids);
        // float32 rounding only (the two graphs group the base's GEMMs differently): a wrong range of the shared file
        // would move logits by their own size
        let diff = 0;
        let scale = 0;
        for (let k = 0; k < want.length; k++) {
          diff = Math.max(diff, Math.abs(got[k]! - want[k]!));
          scale = Math.max(scale, Math.abs(want[k]!));
        }
        expect(diff / scale, `fusion ${i}: largest logit difference / largest logit`).toBeLessThan(1e-5);
      }
      // the two fusions' trained tensors share names, not values: each kept its own
      const a = await logits(shared[0]!, ids);
      const b = await logits(shared[1]!, ids);
      expect(a.some((v, k) => Math.abs(v - b[k]!) > 1e-3)).toBe(true);
      // the plain graph still answers as before the fusions wrote beside its file
      const view = plain.decoder.withAdapters([]);
      const again = await view.forward(view.newCache(), ids);
      const fresh = await ChatModel.open(fx.model.dir, { threads: 1 });
      try {
        const v2 = fresh.decoder.withAdapters([]);
        expect(Array.from(again)).toEqual(Array.from(await v2.forward(v2.newCache(), ids)));
      } finally {
        await fresh.dispose();
      }
    } finally {
      for (const f of opened) await f.decoder.dispose();
      await plain.dispose();
    }
  }, 180_000);
});
