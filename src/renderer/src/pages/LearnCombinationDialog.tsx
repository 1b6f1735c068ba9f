// Adapters → "Learn a combination" (issue 15): the selected adapters stay frozen and a run learns how to combine
// them on a dataset — one weight per adapter (a new adapter that merges and exports like any other) or AdapterFusion
// attention per token (a fusion folder eval loads; not mergeable). It starts an ordinary run with a `fusion` section,
// so its progress and curves are the run page's; the comparison with each adapter alone and their uniform average
// is in the run's log and fusion-report.json.
import { useState } from 'react';
import type { Adapter } from '../../../common/api/adapters.ts';
import { FUSION_LEARNING_RATE, FUSION_STEPS } from '../../../common/api/fusion.ts';
import type { Run } from '../../../common/api/runs.ts';
import { t } from '../i18n/t.ts';
import { toStudioApiError } from '../api/client.ts';
import { Banner, Button, Dialog, TextField } from '../components/index.ts';
import { useStudio } from '../state/studio.tsx';

/** The fuse command's learning rates (one table in the contract, so the studio and the CLI train alike). */
const LEARNING_RATE = FUSION_LEARNING_RATE;

/** The run's default name: the adapters' names as Combine's default joins them, and how they are combined. */
function combinationName(names: string[], mode: 'weights' | 'attention'): string {
  const joined = names.join(' + ');
  return t('fusion.runName', { names: joined.length > 80 ? `${joined.slice(0, 79)}…` : joined, mode });
}

export function LearnCombinationDialog({
  projectId,
  adapters,
  onClose,
  onStarted,
}: {
  projectId: string;
  adapters: Adapter[];
  onClose: () => void;
  onStarted: (run: Run) => void;
}) {
  const client = useStudio();
  const [dataset, setDataset] = useState('');
  const [mode, setMode] = useState<'weights' | 'attention'>('weights');
  // the mode's default (FUSION_STEPS: attention needs 160 to match each adapter on its task) until the user types one
  const [typedSteps, setSteps] = useState<string | null>(null);
  const steps = typedSteps ?? String(FUSION_STEPS[mode]);
  // where it trains, as any run chooses (RunConfig.executor, train/fuse --device)
  const [executor, setExecutor] = useState<'auto' | 'cpu' | 'cuda'>('auto');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const bases = [...new Set(adapters.map((a) => a.baseModel).filter((b): b is string => !!b))];

  async function submit() {
    const maxSteps = Number(steps);
    if (!Number.isInteger(maxSteps) || maxSteps < 1) return setError(t('fusion.stepsNotWhole'));
    if (bases.length !== 1) return setError(t('fusion.oneBase'));
    setBusy(true);
    setError(null);
    try {
      const run = await client.invoke('runs.start', {
        projectId,
        name: combinationName(adapters.map((a) => a.name), mode),
        config: {
          model: bases[0],
          dataset: { path: dataset.trim(), eval_split: { kind: 'ratio', ratio: 0.1 } },
          fusion: { adapters: adapters.map((a) => a.path), mode },
          learning_rate: LEARNING_RATE[mode],
          max_steps: maxSteps,
          executor,
          eval_steps: Math.max(1, Math.floor(maxSteps / 4)),
        },
      });
      onStarted(run);
    } catch (err) {
      setError(toStudioApiError(err).message);
      setBusy(false);
    }
  }

  return (
    <Dialog
      open
      title={t('fusion.title')}
      onClose={onClose}
      onSubmit={() => void submit()}
      onEdit={() => setError(null)}
      busy={busy}
      actions={
        <>
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button type="submit" variant="primary" busy={busy}>
            {t('fusion.start')}
          </Button>
        </>
      }
    >
      <div className="form-grid">
        <p className="muted">{t('fusion.body', { names: adapters.map((a) => a.name).join(', ') })}</p>
        {error ? <Banner title={t('fusion.notStarted')}>{error}</Banner> : null}
        <TextField
          label={t('fusion.dataset')}
          hint={t('fusion.datasetHint')}
          value={dataset}
          onChange={(e) => setDataset(e.target.value)}
        />
        <fieldset className="form-grid">
          <legend className="field-label">{t('fusion.mode')}</legend>
          {(['weights', 'attention'] as const).map((m) => (
            <label key={m}>
              <input type="radio" name="fusion-mode" checked={mode === m} onChange={() => setMode(m)} />{' '}
              {m === 'weights' ? t('fusion.modeWeights') : t('fusion.modeAttention')}
              <span className="muted">
                {' '}
                — {m === 'weights' ? t('fusion.modeWeightsHint') : t('fusion.modeAttentionHint')}
              </span>
            </label>
          ))}
        </fieldset>
        <TextField
          label={t('fusion.steps')}
          value={steps}
          inputMode="numeric"
          onChange={(e) => setSteps(e.target.value)}
        />
        <div className="field">
          <label className="field-label" htmlFor="fusion-executor">
            {t('fusion.executor')}
          </label>
          <select id="fusion-executor" value={executor} onChange={(e) => setExecutor(e.target.value as typeof executor)}>
            <option value="auto">{t('fusion.executorAuto')}</option>
            <option value="cpu">{t('fusion.executorCpu')}</option>
            <option value="cuda">{t('fusion.executorCuda')}</option>
          </select>
        </div>
      </div>
    </Dialog>
  );
}
