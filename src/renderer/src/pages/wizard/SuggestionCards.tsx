// The wizard's one-click choices: models as cards (the bundled default model, models opened before, the Hugging Face
// cache) with size and architecture, and the datasets that ship with the studio (the demo's, with its eval file).
import { useState } from 'react';
import type { DatasetSuggestion } from '../../../../common/api/datasets.ts';
import type { ModelSuggestion } from '../../../../common/api/models.ts';
import type { Project } from '../../../../common/api/projects.ts';
import { toStudioApiError } from '../../api/client.ts';
import { useQuery } from '../../api/hooks.ts';
import { Banner, Button } from '../../components/index.ts';
import { formatBytes } from '../../format.ts';
import { useStudio } from '../../state/studio.tsx';
import { JobProgress } from './JobProgress.tsx';
import { useJob } from './useJob.ts';
import { t } from '../../i18n/t.ts';
import { sayPhrase } from '../../i18n/phrase.ts';

/** Where a suggested model comes from, in the UI language. */
const originLabel = (origin: ModelSuggestion['origin']) => t(`suggest.origin.${origin}`);

function parameters(n: number): string {
  const count =
    n >= 1e9 ? `${(n / 1e9).toFixed(2)}B` : n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : `${(n / 1e3).toFixed(1)}K`;
  return t('suggest.parameters', { count });
}

export interface ChosenModel {
  id: string;
  path: string;
  maxPositions: number;
  bundled: boolean;
}

/** Model cards; choosing one opens it (once) and hands the record to the wizard. */
export function ModelCards({
  selectedId,
  onChoose,
}: {
  selectedId: string | null;
  onChoose: (model: ChosenModel) => void;
}) {
  const client = useStudio();
  const suggestions = useQuery('models.suggestions', {});
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  if (suggestions.state.status !== 'ready' || suggestions.state.data.models.length === 0) return null;
  const { models, bundledPath } = suggestions.state.data;

  const choose = async (m: ModelSuggestion) => {
    setBusy(m.path);
    setError(null);
    try {
      const id = m.modelId ?? (await client.invoke('models.open', { path: m.path })).id;
      onChoose({ id, path: m.path, maxPositions: m.maxPositions, bundled: m.path === bundledPath });
      suggestions.reload();
    } catch (err) {
      setError(toStudioApiError(err).message);
    } finally {
      setBusy(null);
    }
  };

  return (
    <section aria-label={t('suggest.modelsLabel')} className="stack">
      <ul className="suggestion-cards">
        {models.map((m) => {
          const selected = m.modelId !== null && m.modelId === selectedId;
          const name = sayPhrase(m.namePhrase, m.name);
          return (
            <li
              key={m.path}
              className={['suggestion-card', selected ? 'suggestion-card-selected' : ''].join(' ')}
              aria-label={name}
            >
              <span className="choice-title">{name}</span>
              <span className="muted">{originLabel(m.origin)}</span>
              <span>
                {m.architecture} · {parameters(m.parameterCount)} · {formatBytes(m.sizeBytes)}
              </span>
              <span className="muted">{t('suggest.modelShape', { layers: m.layers, context: m.maxPositions })}</span>
              <Button
                size="sm"
                variant={selected ? 'secondary' : 'primary'}
                busy={busy === m.path}
                disabled={selected}
                onClick={() => void choose(m)}
                aria-label={selected ? t('suggest.isSelected', { name }) : t('suggest.use', { name })}
              >
                {selected ? t('suggest.selected') : t('suggest.useModel')}
              </Button>
            </li>
          );
        })}
      </ul>
      {error ? <Banner title={t('suggest.openFailed')}>{error}</Banner> : null}
    </section>
  );
}

export interface ChosenDataset {
  id: string;
  format: DatasetSuggestion['format'];
  columns: Record<string, string>;
  evalPath: string | null;
}

/** The bundled datasets as cards; choosing one imports it into the project (once) with its eval file. */
export function DatasetCards({ project, onChoose }: { project: Project; onChoose: (dataset: ChosenDataset) => void }) {
  const client = useStudio();
  const suggestions = useQuery('datasets.suggestions', {});
  const [pending, setPending] = useState<DatasetSuggestion | null>(null);
  const [error, setError] = useState<string | null>(null);
  const importing = useJob((job) => {
    if (job.status !== 'succeeded' || !pending) return;
    void pick(pending);
  });
  if (suggestions.state.status !== 'ready' || suggestions.state.data.length === 0) return null;

  async function pick(s: DatasetSuggestion): Promise<boolean> {
    const known = (await client.invoke('datasets.list', { projectId: project.id })).find((d) => d.path === s.path);
    if (!known) return false;
    onChoose({ id: known.id, format: known.format, columns: known.columns, evalPath: s.evalPath });
    return true;
  }
  const choose = async (s: DatasetSuggestion) => {
    setError(null);
    setPending(s);
    try {
      if (await pick(s)) return;
      importing.track(
        await client.invoke('datasets.import', {
          projectId: project.id,
          path: s.path,
          name: sayPhrase(s.namePhrase, s.name),
          format: s.format,
          columns: s.columns,
        }),
      );
    } catch (err) {
      setError(toStudioApiError(err).message);
    }
  };

  return (
    <section aria-label={t('suggest.datasetsLabel')} className="stack">
      <ul className="suggestion-cards">
        {suggestions.state.data.map((s) => (
          <li key={s.path} className="suggestion-card" aria-label={sayPhrase(s.namePhrase, s.name)}>
            <span className="choice-title">{sayPhrase(s.namePhrase, s.name)}</span>
            <span className="muted">{t('suggest.datasetLine', { rows: s.rows, withEval: Boolean(s.evalPath) })}</span>
            <span>{sayPhrase(s.descriptionPhrase, s.description)}</span>
            <Button
              size="sm"
              variant="primary"
              busy={importing.running && pending?.path === s.path}
              onClick={() => void choose(s)}
              aria-label={t('suggest.use', { name: sayPhrase(s.namePhrase, s.name) })}
            >
              {t('suggest.useDataset')}
            </Button>
          </li>
        ))}
      </ul>
      <JobProgress
        job={importing.job}
        running={importing.running}
        onCancel={importing.cancel}
        label={t('datasets.importProgress')}
        pending={t('datasets.reading')}
        failedTitle={t('datasets.importFailed')}
      />
      {error ? <Banner title={t('suggest.datasetFailed')}>{error}</Banner> : null}
    </section>
  );
}
