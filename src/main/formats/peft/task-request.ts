// Which task model an encoder adapter belongs to: its task_head.json (ours: class and labels), or for an adapter PEFT
// wrote elsewhere, its task_type and the shape of the head it saved (SEQ_CLS: the classifier's rows are the labels,
// named LABEL_i as transformers names unnamed labels; one row is regression; QUESTION_ANS: extractive QA).

import { requestForTaskHead, type EncoderTaskRequest } from '../../model/families/bert/task.ts';
import type { LoraAdapter } from './adapter.ts';

/** Saved head tensors whose first axis counts the labels: BERT / DistilBERT classifier, RoBERTa / ELECTRA out_proj. */
const LABEL_ROWS = /^base_model\.model\.classifier(\.out_proj)?\.weight$/;

export function adapterTaskRequest(
  adapter: Pick<LoraAdapter, 'taskHead' | 'config' | 'extra'>,
): EncoderTaskRequest | undefined {
  const known = requestForTaskHead(adapter.taskHead, adapter.config.task_type);
  if (known || adapter.config.task_type !== 'SEQ_CLS') return known;
  const head = [...adapter.extra].find(([k]) => LABEL_ROWS.test(k));
  if (!head) return undefined;
  const n = head[1].shape[0];
  return n === 1
    ? { task: 'sequence_classification', regression: true }
    : { task: 'sequence_classification', labels: Array.from({ length: n }, (_, i) => `LABEL_${i}`) };
}
