// The quick-start run form's pure half: text fields → a run config, checked with the contract's own
// schema, with every problem mapped back to the field that caused it.
import { methods } from '../../common/api/contract.ts';
import type { MethodInput } from '../../common/api/contract.ts';
import { sentence } from './validation.ts';
import { t } from './i18n/t.ts';

export interface RunFormValues {
  name: string;
  model: string;
  dataset: string;
  r: string;
  alpha: string;
  learningRate: string;
  epochs: string;
  maxSteps: string;
  maxSeqLength: string;
  evalShare: string;
}

export type RunFormField = keyof RunFormValues;

/** The studio's safe defaults (the contract's), as the form shows them. */
export const RUN_FORM_DEFAULTS: RunFormValues = {
  name: '',
  model: '',
  dataset: '',
  r: '16',
  alpha: '32',
  learningRate: '0.0001',
  epochs: '1',
  maxSteps: '',
  maxSeqLength: '1024',
  evalShare: '0.1',
};

/** Where each field lands in runs.start's input, to map the schema's issues back. */
const FIELD_PATHS: Record<string, RunFormField> = {
  name: 'name',
  'config.model': 'model',
  'config.dataset.path': 'dataset',
  'config.lora.r': 'r',
  'config.lora.lora_alpha': 'alpha',
  'config.learning_rate': 'learningRate',
  'config.num_train_epochs': 'epochs',
  'config.max_steps': 'maxSteps',
  'config.max_seq_length': 'maxSeqLength',
  'config.dataset.eval_split.ratio': 'evalShare',
};

export type RunStartInput = MethodInput<'runs.start'>;

export interface RunFormResult {
  input: RunStartInput | null;
  fieldErrors: Partial<Record<RunFormField, string>>;
  /** Problems the form has no field for, with the config path they concern. */
  otherErrors: string[];
}

/** Builds runs.start's input from the form, or says per field what is wrong. */
export function buildRunStart(projectId: string, values: RunFormValues): RunFormResult {
  const fieldErrors: Partial<Record<RunFormField, string>> = {};
  const number = (field: RunFormField, optional = false): number | null => {
    const text = values[field].trim();
    if (text === '') {
      if (!optional) fieldErrors[field] = t('form.enterNumber');
      return null;
    }
    const value = Number(text);
    if (!Number.isFinite(value)) {
      fieldErrors[field] = t('form.notNumber', { text });
      return null;
    }
    return value;
  };
  if (values.model.trim() === '') fieldErrors.model = t('form.enterModel');
  if (values.dataset.trim() === '') fieldErrors.dataset = t('form.enterDataset');
  const r = number('r');
  const alpha = number('alpha');
  const learningRate = number('learningRate');
  const epochs = number('epochs');
  const maxSteps = number('maxSteps', true);
  const maxSeqLength = number('maxSeqLength');
  const evalShare = number('evalShare');

  const input = {
    projectId,
    ...(values.name.trim() ? { name: values.name.trim() } : {}),
    config: {
      model: values.model.trim(),
      dataset: {
        path: values.dataset.trim(),
        eval_split: evalShare === 0 ? { kind: 'none' as const } : { kind: 'ratio' as const, ratio: evalShare ?? 0.1 },
      },
      lora: { r: r ?? 16, lora_alpha: alpha ?? 32 },
      learning_rate: learningRate ?? 1e-4,
      num_train_epochs: epochs ?? 1,
      max_steps: maxSteps,
      max_seq_length: maxSeqLength ?? 1024,
    },
  } satisfies RunStartInput;

  const otherErrors: string[] = [];
  const parsed = methods['runs.start'].input.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const path = issue.path.map(String).join('.');
      const field = FIELD_PATHS[path];
      if (field) fieldErrors[field] ??= sentence(issue.message);
      else otherErrors.push(`${path || 'config'}: ${sentence(issue.message)}`);
    }
  }
  const ok = Object.keys(fieldErrors).length === 0 && otherErrors.length === 0;
  return { input: ok ? input : null, fieldErrors, otherErrors };
}
