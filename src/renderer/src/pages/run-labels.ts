import type { Run } from '../../../common/api/runs.ts';
import { basename } from '../format.ts';

export const METHOD_LABELS: Record<Run['config']['method'], string> = { lora: 'LoRA', qlora: 'QLoRA', full: 'Full fine-tuning' };

/** "LoRA r=16 · SmolLM2-135M · support.jsonl": what a run trained, in one line. */
export function describeRun(run: Run): string {
  const method = run.config.method === 'full' ? METHOD_LABELS.full : `${METHOD_LABELS[run.config.method]} r=${run.config.lora.r}`;
  return `${method} · ${basename(run.config.model)} · ${basename(run.config.dataset.path)}`;
}
