// The wizard's draft → run config, checked by the contract's schema with each problem at the step and field
// that caused it; presets; the draft saved and restored through storage (an old or broken one falls back).
import { describe, expect, it } from 'vitest';
import { RunConfig } from '../../src/common/api/runs.ts';
import { BUNDLED_MODEL_RECIPE } from '../../src/common/api/models.ts';
import { checkDraft, DEFAULT_DRAFT, DRAFT_KEY_PREFIX, draftToConfig, loadDraft, matchingPreset, PRESETS, presetsFor, saveDraft, type WizardDraft } from '../../src/renderer/src/pages/wizard/draft.ts';

const paths = { model: '/models/tiny', dataset: '/data/pairs.jsonl' };

function memoryStorage() {
  const map = new Map<string, string>();
  return { getItem: (k: string) => map.get(k) ?? null, setItem: (k: string, v: string) => void map.set(k, v), map };
}

describe('wizard draft', () => {
  it('the defaults make the safe default run config (r=16, alpha=32, q/k/v/o, dropout 0.05, lr 1e-4), saving checkpoints', () => {
    const check = checkDraft(DEFAULT_DRAFT, paths);
    expect(check.fieldErrors).toEqual({});
    expect(check.config).toEqual(RunConfig.parse({ model: paths.model, dataset: { path: paths.dataset, skip_bad_rows: true } }));
  });

  it('on the bundled model, Balanced is the demo recipe; a separate eval file becomes the eval split', () => {
    const balanced = presetsFor(true).balanced.values;
    const draft: WizardDraft = { ...DEFAULT_DRAFT, ...balanced, evalKind: 'file', evalFile: '/data/eval.jsonl' };
    expect(matchingPreset(draft, presetsFor(true))).toBe('balanced');
    expect(matchingPreset(draft)).toBe('custom'); // not the generic Balanced
    const config = checkDraft(draft, paths).config!;
    const recipe = BUNDLED_MODEL_RECIPE;
    expect(config).toMatchObject({
      lora: { ...recipe.lora },
      learning_rate: recipe.learning_rate,
      max_steps: recipe.max_steps,
      micro_batch_size: recipe.micro_batch_size,
      gradient_accumulation_steps: recipe.gradient_accumulation_steps,
      warmup_steps: recipe.warmup_steps,
      max_seq_length: recipe.max_seq_length,
      packing: recipe.packing,
      train_on: recipe.train_on,
      lr_scheduler_type: recipe.lr_scheduler_type,
    });
    expect(config.dataset.eval_split).toEqual({ kind: 'file', path: '/data/eval.jsonl' });
    expect(checkDraft({ ...draft, evalFile: ' ' }, paths).fieldErrors.evalFile).toBeTruthy();
    expect(presetsFor(false)).toBe(PRESETS);
  });

  it('turns the typed fields into the config: prompt template, no eval split at 0, max steps, all-linear', () => {
    const draft: WizardDraft = { ...DEFAULT_DRAFT, templateKind: 'prompt', promptTemplate: 'Q: {prompt}\nA:', evalRatio: '0', maxSteps: '25', targetModules: 'all-linear', method: 'qlora', seed: '7' };
    const config = checkDraft(draft, paths).config!;
    expect(config.dataset.template).toEqual({ kind: 'prompt', template: 'Q: {prompt}\nA:' });
    expect(config.dataset.eval_split).toEqual({ kind: 'none' });
    expect(config).toMatchObject({ max_steps: 25, method: 'qlora', seed: 7, lora: { target_modules: 'all-linear' } });
    expect(checkDraft({ ...DEFAULT_DRAFT, targetModules: 'q_proj,  v_proj' }, paths).config!.lora.target_modules).toEqual(['q_proj', 'v_proj']);
  });

  it('puts each schema problem at its field and sends Start to the earliest step with one', () => {
    const check = checkDraft({ ...DEFAULT_DRAFT, r: 'four', learningRate: '3', evalRatio: '1.5' }, paths);
    expect(check.config).toBeNull();
    expect(Object.keys(check.fieldErrors).sort()).toEqual(['evalRatio', 'learningRate', 'r']);
    // Cross-field rules run once the fields themselves are valid (zod's refinements).
    expect(checkDraft({ ...DEFAULT_DRAFT, targetModules: 'q_proj, q_proj' }, paths).fieldErrors).toEqual({ targetModules: 'Target_modules lists a module twice.' });
    expect(check.firstBadStep).toBe('dataset');
    expect(checkDraft({ ...DEFAULT_DRAFT }, { model: '', dataset: paths.dataset }).firstBadStep).toBe('model');
    expect(checkDraft({ ...DEFAULT_DRAFT, templateKind: 'prompt', promptTemplate: '' }, paths).fieldErrors.promptTemplate).toBeTruthy();
  });

  it('knows which preset the values match, and "custom" once one is edited', () => {
    expect(matchingPreset(DEFAULT_DRAFT)).toBe('balanced');
    expect(matchingPreset({ ...DEFAULT_DRAFT, ...PRESETS.thorough.values })).toBe('thorough');
    expect(matchingPreset({ ...DEFAULT_DRAFT, ...PRESETS.light.values, r: '12' })).toBe('custom');
    expect(draftToConfig({ ...DEFAULT_DRAFT, ...PRESETS.light.values }, paths)).toMatchObject({ lora: { r: 8, lora_alpha: 16, target_modules: ['q_proj', 'v_proj'] }, learning_rate: 0.0002 });
  });

  it('is saved per project and restored; unknown steps, wrong types and broken JSON fall back to defaults', () => {
    const storage = memoryStorage();
    const draft = { ...DEFAULT_DRAFT, step: 'method' as const, modelId: 'm1', r: '8' };
    saveDraft(storage, 'p1', draft);
    expect(loadDraft(storage, 'p1')).toEqual(draft);
    expect(loadDraft(storage, 'p2')).toEqual(DEFAULT_DRAFT);
    storage.setItem(DRAFT_KEY_PREFIX + 'p3', JSON.stringify({ step: 'nowhere', r: 8, modelId: 5, seed: '9' }));
    expect(loadDraft(storage, 'p3')).toEqual({ ...DEFAULT_DRAFT, seed: '9' });
    storage.setItem(DRAFT_KEY_PREFIX + 'p4', '{not json');
    expect(loadDraft(storage, 'p4')).toEqual(DEFAULT_DRAFT);
  });
});
