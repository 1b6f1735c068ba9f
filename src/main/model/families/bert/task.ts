// Any encoder checkpoint (…Model, …ForMaskedLM, …ForPreTraining, or a task model) as the task model the studio
// trains: the spec of `<Class>ForSequenceClassification` with the run's labels, `<Class>ForQuestionAnswering`, or
// `<Class>ForMaskedLM`, as AutoModelFor….from_pretrained(base, num_labels=…) builds it. The config.json such a
// model is saved with (architectures, id2label / label2id, problem_type) is written here too.

import type { SpecBase } from '../../spec-base.ts';
import { ModelConfigError } from '../../config-fields.ts';
import type { EncoderHead, EncoderSpec } from './spec.ts';

export type EncoderTaskRequest =
  /** Single-label classification over these label names (id = index), or regression with `regression: true`. */
  | { task: 'sequence_classification'; labels: string[]; regression?: false }
  | { task: 'sequence_classification'; regression: true; labels?: undefined }
  | { task: 'question_answering' }
  | { task: 'masked_lm' };

const ENCODER_FAMILIES = new Set(['bert', 'distilbert', 'roberta', 'electra']);

export function isEncoderSpec(spec: SpecBase): spec is EncoderSpec {
  return ENCODER_FAMILIES.has(spec.family);
}

const SUFFIX = /(Model|ForMaskedLM|ForPreTraining|ForSequenceClassification|ForQuestionAnswering)$/;

/** The spec of the task model over a checkpoint's encoder (its own head, if any, is replaced). */
export function encoderForTask<S extends SpecBase>(spec: S, request: EncoderTaskRequest): S & EncoderSpec {
  if (!isEncoderSpec(spec))
    throw new ModelConfigError(
      `${spec.architecture} is a decoder (${spec.family}); classification and question answering need an encoder (BERT, DistilBERT, RoBERTa, XLM-RoBERTa)`,
    );
  const base = spec.architecture.replace(SUFFIX, '');
  let head: EncoderHead;
  let architecture: string;
  if (request.task === 'sequence_classification') {
    architecture = `${base}ForSequenceClassification`;
    if (request.regression)
      head = { task: 'sequence_classification', numLabels: 1, problemType: 'regression', id2label: { 0: 'LABEL_0' } };
    else {
      const labels = request.labels;
      if (labels.length < 2)
        throw new ModelConfigError(
          `classification needs at least two labels, got ${labels.length} (${JSON.stringify(labels)}); one numeric label is regression`,
        );
      const dup = labels.find((l, i) => labels.indexOf(l) !== i);
      if (dup !== undefined)
        throw new ModelConfigError(`classification labels must be distinct: "${dup}" appears twice`);
      head = {
        task: 'sequence_classification',
        numLabels: labels.length,
        problemType: 'single_label_classification',
        id2label: Object.fromEntries(labels.map((l, i) => [String(i), l])),
      };
    }
  } else if (request.task === 'question_answering') {
    architecture = `${base}ForQuestionAnswering`;
    head = { task: 'question_answering', numLabels: 2, problemType: null, id2label: null };
  } else {
    architecture = `${base}ForMaskedLM`;
    head = { task: 'masked_lm', numLabels: 0, problemType: null, id2label: null };
  }
  return { ...spec, architecture, head };
}

/** The label names of a classification spec, by id (LABEL_i where config.json names none). */
export function labelNames(spec: EncoderSpec): string[] {
  return Array.from({ length: spec.head.numLabels }, (_, i) => spec.head.id2label?.[String(i)] ?? `LABEL_${i}`);
}

/**
 * config.json of the task model: the checkpoint's config with `architectures`, and for classification id2label,
 * label2id and problem_type, as transformers' save_pretrained writes them.
 */
export function taskModelConfig(hfConfig: Record<string, unknown>, spec: EncoderSpec): Record<string, unknown> {
  const out: Record<string, unknown> = { ...hfConfig, architectures: [spec.architecture] };
  delete out.num_labels;
  if (spec.head.task === 'sequence_classification') {
    const names = labelNames(spec);
    out.id2label = Object.fromEntries(names.map((n, i) => [String(i), n]));
    out.label2id = Object.fromEntries(names.map((n, i) => [n, i]));
    out.problem_type = spec.head.problemType;
  } else {
    delete out.problem_type;
  }
  return out;
}

/** What a saved task head (an adapter's task_head.json, or PEFT's task_type alone) asks a checkpoint to open as. */
export function requestForTaskHead(
  head:
    { architecture: string; id2label: Record<string, string> | null; problemType: string | null } | null | undefined,
  taskType: string | null,
): EncoderTaskRequest | undefined {
  if (head?.architecture.endsWith('ForQuestionAnswering') || (!head && taskType === 'QUESTION_ANS'))
    return { task: 'question_answering' };
  if (!head?.architecture.endsWith('ForSequenceClassification')) return undefined;
  if (head.problemType === 'regression') return { task: 'sequence_classification', regression: true };
  const ids = Object.keys(head.id2label ?? {}).sort((a, b) => Number(a) - Number(b));
  return { task: 'sequence_classification', labels: ids.map((i) => head.id2label![i]) };
}
