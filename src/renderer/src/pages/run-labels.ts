import type { Run } from '../../../common/api/runs.ts';
import { basename, secondsBetween } from '../format.ts';
import { t } from '../i18n/t.ts';

export const METHOD_LABELS: Record<Run['config']['method'], string> = {
  lora: 'LoRA',
  qlora: 'QLoRA',
  full: 'Full fine-tuning',
};

/**
 * How long a run trained: the summary's training time once it finished (across resumes, without start-up), else the
 * wall clock since it started. Every page (Runs, the run page, Compare) shows this one figure.
 */
export function runSeconds(run: Run, now: number = Date.now()): number | null {
  if (run.summary) return run.summary.seconds;
  return run.startedAt ? secondsBetween(run.startedAt, run.endedAt, now) : null;
}

/** "LoRA r=16 · SmolLM2-135M · support.jsonl": what a run trained, in one line. */
export function describeRun(run: Run): string {
  const f = run.config.fusion;
  const method = f
    ? t('fusion.describe', {
        count: f.adapters.length,
        mode: f.mode === 'weights' ? t('fusion.modeWeights') : t('fusion.modeAttention'),
      })
    : run.config.method === 'full'
      ? METHOD_LABELS.full
      : `${METHOD_LABELS[run.config.method]} r=${run.config.lora.r}`;
  return `${method} · ${basename(run.config.model)} · ${basename(run.config.dataset.path)}`;
}
