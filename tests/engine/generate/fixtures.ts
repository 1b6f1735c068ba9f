// A tiny chat fixture: a random Llama-style model folder (with the tiny BPE tokenizer and its ChatML template) and
// PEFT adapters for it whose B factors are non-zero, so attaching one visibly changes the answers.
import { join } from 'node:path';
import { makeTinyModel, seededRandom, type TinyModel } from '../../fixtures/tiny-models.ts';
import { defaultLoraConfig, initLoraAdapter, matchTargetModules, writeAdapter } from '../../../src/main/formats/peft/index.ts';

export interface ChatFixture {
  model: TinyModel;
  adapters: string[]; // adapter folders
}

export async function makeChatFixture(dir: string, { adapters = 1, family = 'llama' }: { adapters?: number; family?: 'llama' | 'gpt2' | 'gemma3' } = {}): Promise<ChatFixture> {
  const model = await makeTinyModel(join(dir, 'model'), family, { seed: 11, std: 0.3 });
  const out: string[] = [];
  for (let i = 0; i < adapters; i++) {
    const targets = family === 'gpt2' ? ['c_attn'] : i % 2 === 0 ? ['q_proj', 'v_proj', 'down_proj'] : ['o_proj', 'up_proj'];
    const config = defaultLoraConfig({ r: 4, lora_alpha: 8, target_modules: targets });
    const random = seededRandom(100 + i);
    const adapter = initLoraAdapter(matchTargetModules(model.spec, config).targets, config, random);
    for (const l of adapter.layers.values()) for (let j = 0; j < l.B.length; j++) l.B[j] = (random() - 0.5) * 2;
    const path = join(dir, `adapter-${i}`);
    await writeAdapter(path, adapter);
    out.push(path);
  }
  return { model, adapters: out };
}
