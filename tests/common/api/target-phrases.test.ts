// LoRA's target_modules said as phrases: a listed module that matches nothing (a warning) and targets that cannot
// train the model (the plan's blocking reason) keep their English word for word and render in Korean.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunConfig } from '../../../src/common/api/runs.ts';
import { createStudioCore, type StudioCore } from '../../../src/main/core/index.ts';
import { setCurrentLocale } from '../../../src/renderer/src/i18n/locale.ts';
import { english, korean } from './phrase-check.ts';
import { makeTinyModel, type TinyModel } from '../../fixtures/tiny-models.ts';

let dir: string;
let core: StudioCore;
let tiny: TinyModel;
let dataPath: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lora-target-phrases-'));
  core = createStudioCore({ dataDir: join(dir, 'data') });
  tiny = await makeTinyModel(join(dir, 'model'), 'llama', { seed: 3 });
  dataPath = join(dir, 'pairs.jsonl');
  writeFileSync(dataPath, JSON.stringify({ prompt: 'What is 1 + 1?', completion: ' 2' }) + '\n');
});
afterAll(async () => {
  setCurrentLocale('en');
  await core.close();
  rmSync(dir, { recursive: true, force: true });
});

async function targetWarnings(target_modules: string[]) {
  const config = RunConfig.parse({ model: tiny.dir, dataset: { path: dataPath }, lora: { target_modules } });
  const plan = await core.call('models.plan', { config });
  return plan.warnings.filter((w) => w.field === 'lora.target_modules');
}
const AVAILABLE = 'q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj, lm_head';

describe('target_modules warnings as phrases', () => {
  it('a listed module that matches nothing: ignored, said in English as before and in Korean', async () => {
    const [ignored] = await targetWarnings(['q_proj', 'qkv']);
    expect(ignored.message).toBe(
      `target module "qkv" matches no module of LlamaForCausalLM; it is ignored (linear modules here: ${AVAILABLE})`,
    );
    expect(ignored.phrase?.code).toBe('targets.ignored');
    expect(english(ignored.phrase!)).toBe(ignored.message);
    expect(korean(ignored.phrase, ignored.message)).toBe(
      `대상 모듈 "qkv"은(는) LlamaForCausalLM의 어떤 모듈과도 맞지 않아 무시됩니다 (이 모델의 선형 모듈: ${AVAILABLE})`,
    );
  });

  it('targets that train nothing or name a norm: the run would fail, in the matcher’s words and in Korean', async () => {
    const [none] = await targetWarnings(['qkv']);
    expect(none.message).toBe(
      `target_modules ["qkv"] matches no linear module of LlamaForCausalLM (available: ${AVAILABLE}); the run would fail at the start`,
    );
    expect(none.phrase?.code).toBe('plan.targets.noMatch');
    expect(english(none.phrase!)).toBe(none.message);
    expect(korean(none.phrase, none.message)).toMatch(
      /^target_modules \["qkv"\]에 맞는 .*실행이 시작하자마자 실패합니다$/,
    );

    const [norm] = await targetWarnings(['input_layernorm']);
    expect(norm.message).toMatch(
      /^target module "input_layernorm" matches model\.layers\.\d+\.input_layernorm, which is not a linear layer \(LoRA applies to Linear\/Conv1D modules only\); the run would fail at the start$/,
    );
    expect(norm.phrase?.code).toBe('plan.targets.notLinear');
    expect(english(norm.phrase!)).toBe(norm.message);
    expect(korean(norm.phrase, norm.message)).toMatch(/선형 층이 아닙니다.*실패합니다$/);
  });
});
