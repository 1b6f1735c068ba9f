// "Compare LoRA vs full" / "Sweep r or targets": one action that starts a comparison group from a recipe — a run of
// this project (its whole config: base, data, task, schedule) or the bundled encoder on its SST-2- or SQuAD-style
// data — and opens Compare runs on it. The members train one after the other; what the core changed (targets the
// model does not have) is shown before leaving. A run page may offer the same button with its run as the recipe.
import { useState } from 'react';
import type { RunGroupStarted } from '../../../common/api/compare.ts';
import type { RunConfigInput } from '../../../common/api/runs.ts';
import { toStudioApiError } from '../api/client.ts';
import { useQuery } from '../api/hooks.ts';
import { Banner, Button, Dialog, TextField } from '../components/index.ts';
import { sayPhrase } from '../i18n/phrase.ts';
import { t } from '../i18n/t.ts';
import { routeHref } from '../routes.ts';
import { useStudio } from '../state/studio.tsx';
import { bundledRecipe, methodLabel, parseRankList, parseTargetLines, targetsText } from './CompareData.ts';

type Kind = 'methods' | 'sweep';

/** Opens the start dialog; on a run's page `runId` makes that run the recipe. */
export function StartComparisonButton({
  projectId,
  runId,
  size = 'sm',
}: {
  projectId: string;
  runId?: string;
  size?: 'sm' | 'md';
}) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button size={size} variant="secondary" onClick={() => setOpen(true)}>
        {t('compare.start.button')}
      </Button>
      {open ? <StartComparisonDialog projectId={projectId} runId={runId} onClose={() => setOpen(false)} /> : null}
    </>
  );
}

interface Recipe {
  id: string;
  label: string;
  config: RunConfigInput;
  fullLearningRate: number | null;
}

function StartComparisonDialog({
  projectId,
  runId,
  onClose,
}: {
  projectId: string;
  runId?: string;
  onClose: () => void;
}) {
  const client = useStudio();
  const runs = useQuery('runs.list', { projectId });
  const suggestions = useQuery('taskData.suggestions', {});
  const recipes: Recipe[] = [];
  if (suggestions.state.status === 'ready' && suggestions.state.data.encoderPath) {
    for (const data of suggestions.state.data.datasets) {
      const { config, fullLearningRate } = bundledRecipe(suggestions.state.data.encoderPath, data);
      recipes.push({
        id: `bundled:${data.task}`,
        label: t('compare.start.bundled', { name: data.name }),
        config,
        fullLearningRate,
      });
    }
  }
  if (runs.state.status === 'ready')
    for (const run of runs.state.data.filter((r) => !r.config.fusion))
      recipes.push({
        id: `run:${run.id}`,
        label: `${run.name} · ${methodLabel(run)}`,
        config: run.config,
        fullLearningRate: null,
      });

  const [kind, setKind] = useState<Kind>('methods');
  const [recipeId, setRecipeId] = useState<string>(runId ? `run:${runId}` : '');
  const recipe = recipes.find((r) => r.id === recipeId) ?? recipes[0] ?? null;
  const lora = (recipe?.config.lora ?? {}) as {
    r?: number;
    lora_alpha?: number;
    target_modules?: string[] | 'all-linear';
  };
  // the fields start from the recipe; an edit overrides it
  const [edits, setEdits] = useState<Record<string, string>>({});
  const field = (key: string, fallback: string) => edits[key] ?? fallback;
  const set = (key: string) => (event: { target: { value: string } }) =>
    setEdits((e) => ({ ...e, [key]: event.target.value }));
  const r = field('r', String(lora.r ?? 16));
  const alpha = field('alpha', String(lora.lora_alpha ?? 32));
  const targets = field('targets', targetsText(lora.target_modules ?? ['q_proj', 'k_proj', 'v_proj', 'o_proj']));
  const ranks = field('ranks', '2, 4, 8');
  const targetSets = field('targetSets', targetsText(lora.target_modules ?? ['q_proj', 'k_proj', 'v_proj', 'o_proj']));
  const maxSteps = field('maxSteps', recipe?.config.max_steps ? String(recipe.config.max_steps) : '');
  const fullLr = field('fullLr', recipe?.fullLearningRate ? String(recipe.fullLearningRate) : '');
  const name = field('name', '');

  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [started, setStarted] = useState<RunGroupStarted | null>(null);

  async function submit() {
    if (started) return go(started);
    if (!recipe) return setError(t('compare.start.noRecipe'));
    const number = (text: string) => (text.trim() === '' ? undefined : Number(text));
    const steps = number(maxSteps);
    if (steps !== undefined && !(Number.isInteger(steps) && steps > 0)) return setError(t('compare.start.badSteps'));
    const config = {
      ...recipe.config,
      ...(steps !== undefined ? { max_steps: steps } : {}),
      lora: {
        ...recipe.config.lora,
        r: Number(r),
        lora_alpha: Number(alpha),
        target_modules:
          targets.trim() === 'all-linear'
            ? 'all-linear'
            : targets
                .split(',')
                .map((s) => s.trim())
                .filter(Boolean),
      },
    } as RunConfigInput;
    setBusy(true);
    setError(null);
    try {
      let result: RunGroupStarted;
      if (kind === 'methods') {
        const lr = number(fullLr);
        result = await client.invoke('compare.methods', {
          projectId,
          ...(name.trim() ? { name: name.trim() } : {}),
          config,
          ...(lr !== undefined ? { full_learning_rate: lr } : {}),
        });
      } else {
        const rankList = parseRankList(ranks);
        if (!rankList) throw new Error(t('compare.start.badRanks'));
        const sets = parseTargetLines(targetSets);
        result = await client.invoke('compare.sweep', {
          projectId,
          ...(name.trim() ? { name: name.trim() } : {}),
          config: { ...config, lora: { ...config.lora, r: rankList[0] } },
          r: rankList,
          ...(sets.length ? { target_modules: sets } : {}),
        });
      }
      if (result.warnings.length === 0) return go(result);
      setStarted(result); // say what changed first; the primary button then opens the comparison
    } catch (err) {
      setError(toStudioApiError(err).message);
    } finally {
      setBusy(false);
    }
  }

  function go(result: RunGroupStarted) {
    window.location.hash = routeHref('compare', result.group.id);
    onClose();
  }

  return (
    <Dialog
      open
      title={t('compare.start.title')}
      onClose={onClose}
      onSubmit={() => void submit()}
      onEdit={() => setError(null)}
      busy={busy}
      actions={
        <>
          {started ? null : <Button onClick={onClose}>{t('common.cancel')}</Button>}
          <Button type="submit" variant="primary" busy={busy}>
            {started
              ? t('compare.start.open')
              : kind === 'methods'
                ? t('compare.start.startMethods')
                : t('compare.start.startSweep')}
          </Button>
        </>
      }
    >
      <div className="form-grid">
        {started ? (
          <Banner tone="info" title={t('compare.start.startedWarnings', { name: started.group.name })}>
            <ul>
              {started.warnings.map((w) => (
                <li key={w.message}>{sayPhrase(w.phrase, w.message)}</li>
              ))}
            </ul>
          </Banner>
        ) : (
          <>
            <p className="muted">{t('compare.start.body')}</p>
            {error ? <Banner title={t('compare.start.notStarted')}>{error}</Banner> : null}
            <fieldset className="form-grid">
              <legend className="field-label">{t('compare.start.kind')}</legend>
              {(['methods', 'sweep'] as const).map((k) => (
                <label key={k}>
                  <input type="radio" name="compare-kind" checked={kind === k} onChange={() => setKind(k)} />{' '}
                  {k === 'methods' ? t('compare.start.kindMethods') : t('compare.start.kindSweep')}
                </label>
              ))}
            </fieldset>
            <label className="field">
              <span className="field-label">{t('compare.start.recipe')}</span>
              <select
                className="input"
                value={recipe?.id ?? ''}
                onChange={(event) => {
                  setRecipeId(event.target.value);
                  setEdits((e) => ({ name: e.name ?? '' }));
                }}
              >
                {recipes.map((rc) => (
                  <option key={rc.id} value={rc.id}>
                    {rc.label}
                  </option>
                ))}
              </select>
              <span className="field-hint">{t('compare.start.recipeHint')}</span>
            </label>
            {kind === 'methods' ? (
              <div className="form-grid form-grid-2">
                <TextField label={t('compare.start.r')} value={r} inputMode="numeric" onChange={set('r')} />
                <TextField label={t('compare.start.alpha')} value={alpha} inputMode="decimal" onChange={set('alpha')} />
                <TextField
                  label={t('compare.start.targets')}
                  hint={t('compare.start.targetsHint')}
                  value={targets}
                  onChange={set('targets')}
                />
                <TextField
                  label={t('compare.start.fullLr')}
                  hint={t('compare.start.fullLrHint')}
                  value={fullLr}
                  inputMode="decimal"
                  onChange={set('fullLr')}
                />
              </div>
            ) : (
              <div className="form-grid form-grid-2">
                <TextField
                  label={t('compare.start.ranks')}
                  hint={t('compare.start.ranksHint')}
                  value={ranks}
                  onChange={set('ranks')}
                />
                <TextField
                  label={t('compare.start.alpha')}
                  hint={t('compare.start.alphaSweepHint')}
                  value={alpha}
                  inputMode="decimal"
                  onChange={set('alpha')}
                />
                <label className="field">
                  <span className="field-label">{t('compare.start.targetSets')}</span>
                  <textarea className="input" rows={3} value={targetSets} onChange={set('targetSets')} />
                  <span className="field-hint">{t('compare.start.targetSetsHint')}</span>
                </label>
              </div>
            )}
            <div className="form-grid form-grid-2">
              <TextField
                label={t('compare.start.maxSteps')}
                hint={t('compare.start.maxStepsHint')}
                value={maxSteps}
                inputMode="numeric"
                onChange={set('maxSteps')}
              />
              <TextField label={t('compare.start.name')} value={name} onChange={set('name')} />
            </div>
          </>
        )}
      </div>
    </Dialog>
  );
}
