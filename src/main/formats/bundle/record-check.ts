// Checking a trainer's output against the bundle's reproducibility record: the adapter's PEFT settings, the
// training arguments the trainer saved, and the number of updates it made. Each difference is reported (field,
// expected, found); nothing is silently accepted or silently refused.
import type { ImportMismatch, ReproducibilityRecord } from '../../../common/api/bundles.ts';
import type { LoraConfig } from '../peft/config.ts';
import { trlTrainingArgs } from './settings.ts';
import type { TrainerOutput } from './trainer-output.ts';

const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

function sameNumber(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

/** The optimizer updates a run of the record makes, as transformers counts them (per process). */
export function expectedSteps(record: ReproducibilityRecord): number {
  const s = record.settings;
  if (s.max_steps !== null) return s.max_steps;
  const perEpoch = Math.ceil(record.dataset.train_rows / s.micro_batch_size / s.gradient_accumulation_steps);
  return Math.ceil(perEpoch * s.num_train_epochs);
}

export function compareWithRecord(
  record: ReproducibilityRecord,
  output: TrainerOutput,
  adapter: LoraConfig | null,
): ImportMismatch[] {
  const out: ImportMismatch[] = [];
  const expect = (
    field: string,
    expected: unknown,
    found: unknown,
    same = (a: unknown, b: unknown) => show(a) === show(b),
  ) => {
    if (found === undefined) return;
    if (!same(expected, found)) out.push({ field, expected: show(expected), found: show(found) });
  };
  const s = record.settings;
  if (adapter) {
    if (s.method === 'full') out.push({ field: 'method', expected: 'full', found: 'a LoRA adapter' });
    expect('lora.r', s.lora.r, adapter.r);
    expect('lora.lora_alpha', s.lora.lora_alpha, adapter.lora_alpha);
    expect('lora.lora_dropout', s.lora.lora_dropout, adapter.lora_dropout, (a, b) =>
      sameNumber(a as number, b as number),
    );
    expect('lora.use_rslora', s.lora.use_rslora, adapter.use_rslora);
    expect('lora.bias', s.lora.bias, adapter.bias);
    const names = (t: unknown) =>
      Array.isArray(t) ? [...new Set((t as string[]).map((x) => x.split('.').pop()!))].sort() : t;
    // PEFT saves the targets it resolved ("all-linear" becomes the module names), so only a listed set is compared
    if (s.lora.target_modules !== 'all-linear')
      expect('lora.target_modules', names(s.lora.target_modules), names(adapter.target_modules));
    if (record.model.hub_id && adapter.base_model_name_or_path)
      expect('model', record.model.hub_id, adapter.base_model_name_or_path);
    if (record.model.revision && adapter.revision) expect('model revision', record.model.revision, adapter.revision);
  }
  const args = output.trainingArgs;
  if (args) {
    const planned = trlTrainingArgs(s, { hasEval: record.dataset.eval_rows > 0 });
    for (const key of [
      'seed',
      'learning_rate',
      'num_train_epochs',
      'max_steps',
      'per_device_train_batch_size',
      'lr_scheduler_type',
      'weight_decay',
      'adam_beta1',
      'adam_beta2',
      'adam_epsilon',
      'max_grad_norm',
      'max_length',
      'packing',
    ]) {
      if (!(key in args)) continue;
      const found = args[key];
      const expected = planned[key];
      expect(key, expected, found, (a, b) =>
        typeof a === 'number' && typeof b === 'number' ? sameNumber(a, b) : show(a) === show(b),
      );
    }
  }
  const steps = expectedSteps(record);
  const state = output.state;
  // trainer_state.json repeats the schedule it ran with (what training_args.bin, a pickle, holds too)
  if (state.train_batch_size !== null)
    expect('micro_batch_size (train_batch_size)', s.micro_batch_size, state.train_batch_size);
  if (state.logging_steps !== null) expect('logging_steps', s.logging_steps, state.logging_steps);
  if (s.eval_steps !== null && state.eval_steps !== null) expect('eval_steps', s.eval_steps, state.eval_steps);
  if (s.save_steps !== null && state.save_steps !== null) expect('save_steps', s.save_steps, state.save_steps);
  if (state.max_steps !== null && state.max_steps > 0 && state.max_steps !== steps) {
    out.push({
      field: 'total steps',
      expected: `${steps} (${record.dataset.train_rows} rows, batch ${s.micro_batch_size} × ${s.gradient_accumulation_steps})`,
      found: String(state.max_steps),
    });
  }
  return out;
}
