// Exports of the current project: start one (adapter, format, value type, with a size estimate before
// starting), follow its progress or cancel it, and copy where it was written. `#/exports/<adapter id or run id>`
// opens the form with that adapter chosen (the Adapters page and a run's Export action link here). The formats
// offered are the core's for the adapter (exports.formats): a chat model's GGUF, merged folder, PEFT copy and LoRA
// GGUF, or an encoder task's ONNX (transformers.js in a browser), merged task model and PEFT copy.
import { useEffect, useState } from 'react';
import type { Adapter } from '../../../common/api/adapters.ts';
import {
  EXPORT_TYPES,
  exportDownloadPath,
  type Export,
  type ExportFormat,
  type ExportTask,
  type ExportType,
} from '../../../common/api/exports.ts';
import type { Project } from '../../../common/api/projects.ts';
import type { Run } from '../../../common/api/runs.ts';
import { toStudioApiError } from '../api/client.ts';
import { useEvent, useQuery } from '../api/hooks.ts';
import {
  Banner,
  Button,
  Card,
  EmptyState,
  PageHeader,
  ProgressBar,
  QueryView,
  Spinner,
  StatusBadge,
  Table,
  TextField,
  type Column,
} from '../components/index.ts';
import { basename, formatBytes, formatDateTime } from '../format.ts';
import { routeHref } from '../routes.ts';
import { useLocation } from '../state/location.ts';
import { useStudio } from '../state/studio.tsx';
import { ProjectGate } from './ProjectGate.tsx';
import { useJobEnd } from './useJobEnd.ts';
import { PublishDialog } from './PublishDialog.tsx';
import { ollamaCreateForGguf } from '../../../common/ollama.ts';
import './Adapters.css';
import { t } from '../i18n/t.ts';

const will = () => [t('exports.will1'), t('exports.will2'), t('exports.will3')];

/** A format's name in the UI language (GGUF, PEFT and LoRA GGUF are names in every language). */
export const formatLabel = (format: ExportFormat) => t(`exports.format.${format}`);
/** Before the core says which formats fit the chosen adapter: a chat model's. */
const DECODER_FORMATS: readonly ExportFormat[] = ['gguf', 'hf', 'peft', 'lora-gguf'];

/** What an export starts from: an adapter (merged into its base, or copied), or a full fine-tune of an encoder task
 *  (its whole model, exported as it is). */
interface Source {
  key: string;
  name: string;
  /** The model the adapter applies to, or the full fine-tune's own folder. */
  model: string | null;
  request: { adapterId: string } | { runId: string };
  matches: (wanted: string | undefined) => boolean;
}

const adapterSource = (a: Adapter): Source => ({
  key: a.id,
  name: a.name,
  model: a.baseModel,
  request: { adapterId: a.id },
  matches: (w) => w === a.id || w === a.runId,
});
const runSource = (r: Run): Source => ({
  key: `run:${r.id}`,
  name: t('exports.fullRun', { name: r.name }),
  model: r.summary?.adapterPath ?? null,
  request: { runId: r.id },
  matches: (w) => w === r.id,
});
/** Finished full fine-tunes of a classification / QA model: exported whole (ONNX, merged folder). */
const wholeTaskModels = (runs: Run[]) =>
  runs.filter((r) => r.status === 'succeeded' && r.config.method === 'full' && r.config.task !== 'causal-lm');

/** A format's name and one-line help for this kind of adapter (a task adapter's merged folder is its task model). */
function formatText(format: ExportFormat, task: ExportTask): { label: string; help: string } {
  if (task !== 'causal-lm' && format === 'hf')
    return { label: t('exports.format.hfTask'), help: t('exports.formatHelp.hfTask', { task }) };
  if (task !== 'causal-lm' && format === 'peft')
    return { label: formatLabel(format), help: t('exports.formatHelp.peftTask') };
  return { label: formatLabel(format), help: t(`exports.formatHelp.${format}`) };
}

export function ExportsPage() {
  return (
    <>
      <PageHeader title={t('nav.exports')} description={t('exports.description')} />
      <ProjectGate pageTitle={t('nav.exports')} icon="export" will={will()}>
        {(project) => <ExportsWorkspace key={project.id} project={project} />}
      </ProjectGate>
    </>
  );
}

function ExportsWorkspace({ project }: { project: Project }) {
  const adapters = useQuery('adapters.list', { projectId: project.id });
  const runs = useQuery('runs.list', { projectId: project.id });
  const exports = useQuery('exports.list', { projectId: project.id });
  const wholeModels = runs.state.status === 'ready' ? wholeTaskModels(runs.state.data) : [];
  const [progress, setProgress] = useState<Record<string, { value: number | null; message: string | null }>>({});
  const listed = exports.state.status === 'ready' ? exports.state.data : [];
  useEvent('job.status', (job) => {
    if (job.projectId === project.id && (job.kind === 'export' || listed.some((e) => e.jobId === job.id)))
      exports.reload();
  });
  useEvent('job.progress', (event) => {
    if (listed.some((e) => e.jobId === event.jobId))
      setProgress((current) => ({ ...current, [event.jobId]: { value: event.progress, message: event.message } }));
  });

  return (
    <div className="page-stack">
      <QueryView
        state={adapters.state}
        loadingLabel={t('exports.loadingAdapters')}
        errorTitle={t('exports.adaptersFailed')}
        onRetry={adapters.reload}
      >
        {(list) => {
          const usable = [...list.filter((a) => a.problem === null).map(adapterSource), ...wholeModels.map(runSource)];
          return usable.length === 0 ? (
            <Card>
              <EmptyState
                icon="export"
                title={t('exports.none', { project: project.name })}
                points={will()}
                actions={
                  <a className="btn btn-primary" href={routeHref('runs')}>
                    {t('exports.goToRuns')}
                  </a>
                }
              >
                {t('exports.noneBody')}
              </EmptyState>
            </Card>
          ) : (
            <ExportForm
              sources={usable}
              onStarted={exports.reload}
              exportsVersion={listed.map((e) => `${e.id}:${e.status}`).join(',')}
            />
          );
        }}
      </QueryView>
      <QueryView
        state={exports.state}
        loadingLabel={t('exports.loading')}
        errorTitle={t('exports.loadFailed')}
        onRetry={exports.reload}
      >
        {(rows) =>
          rows.length === 0 ? null : (
            <Card flush title={t('nav.exports')}>
              <ExportTable
                rows={rows}
                adapters={adapters.state.status === 'ready' ? adapters.state.data : []}
                runs={runs.state.status === 'ready' ? runs.state.data : []}
                progress={progress}
              />
            </Card>
          )
        }
      </QueryView>
    </div>
  );
}

function ExportForm({
  sources,
  onStarted,
  exportsVersion,
}: {
  sources: Source[];
  onStarted: () => void;
  exportsVersion: string;
}) {
  const client = useStudio();
  const wanted = useLocation().params[0];
  const [sourceKey, setSourceKey] = useState((sources.find((s) => s.matches(wanted)) ?? sources[0]).key);
  const [format, setFormat] = useState<ExportFormat>('gguf');
  const [type, setType] = useState<ExportType>(EXPORT_TYPES.gguf[0]);
  const [weight, setWeight] = useState('1');
  const [model, setModel] = useState('');
  const [outPath, setOutPath] = useState('');
  const [overwrite, setOverwrite] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [started, setStarted] = useState<{ path: string; jobId: string | null } | null>(null);
  // The notice lasts while the export job runs; its outcome is in the list below.
  useJobEnd(started?.jobId ?? null, () => setStarted(null));
  const source = sources.find((s) => s.key === sourceKey) ?? sources[0];
  const whole = 'runId' in source.request;
  const fitting = useQuery('exports.formats', source.request);
  const fits = fitting.state.status === 'ready' ? fitting.state.data : null;
  const task: ExportTask = fits?.task ?? 'causal-lm';
  const formats = fits?.formats ?? DECODER_FORMATS;
  // Another adapter may take other formats: keep the choice when it fits, else its suggested one.
  useEffect(() => {
    if (fits && !fits.formats.includes(format)) {
      setFormat(fits.formats[0]);
      setType(EXPORT_TYPES[fits.formats[0]][0]);
    }
  }, [fits, format]);
  const needsBase = format !== 'peft' && !whole;
  const merges = task === 'causal-lm' && (format === 'hf' || format === 'gguf');

  function chooseFormat(next: ExportFormat) {
    setFormat(next);
    setType(EXPORT_TYPES[next][0]);
  }

  async function start() {
    const w = Number(weight);
    if (merges && (weight.trim() === '' || !Number.isFinite(w))) {
      setError(t('exports.weightNotNumber', { weight }));
      return;
    }
    setBusy(true);
    setError(null);
    setStarted(null);
    try {
      const result = await client.invoke('exports.start', {
        ...source.request,
        format,
        type,
        overwrite,
        ...(merges ? { weight: w } : {}),
        ...(model.trim() ? { model: model.trim() } : {}),
        ...(outPath.trim() ? { outPath: outPath.trim() } : {}),
      });
      setStarted({ path: result.path, jobId: result.jobId });
      setOverwrite(false);
      onStarted();
    } catch (err) {
      setError(toStudioApiError(err).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Card title={t('exports.new')}>
      <form
        className="export-form"
        onSubmit={(event) => {
          event.preventDefault();
          void start();
        }}
      >
        <div className="field">
          <label className="field-label" htmlFor="export-adapter">
            {t('exports.adapter')}
          </label>
          <select id="export-adapter" value={source.key} onChange={(e) => setSourceKey(e.target.value)}>
            {sources.map((s) => (
              <option key={s.key} value={s.key}>
                {s.name}
              </option>
            ))}
          </select>
          <span className="field-hint">
            {whole
              ? t('exports.fullRunHint')
              : source.model
                ? t('exports.baseModelIs', { model: basename(source.model) })
                : t('exports.baseUnknown')}
          </span>
          {task !== 'causal-lm' ? (
            <span className="field-hint" data-testid="export-task">
              {t('exports.taskAdapter', { task })}
            </span>
          ) : null}
        </div>
        <div className="field">
          <label className="field-label" htmlFor="export-type">
            {t('exports.type')}
          </label>
          <select
            id="export-type"
            value={type}
            onChange={(e) => setType(e.target.value as ExportType)}
            disabled={EXPORT_TYPES[format].length === 1}
          >
            {EXPORT_TYPES[format].map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
          <span className="field-hint">{t(`exports.typeHelp.${type}`)}</span>
        </div>
        <div className="field span-2">
          <span className="field-label" id="export-format-label">
            {t('exports.formatLabel')}
          </span>
          <div className="segmented" role="radiogroup" aria-labelledby="export-format-label">
            {formats.map((f) => (
              <label key={f}>
                <input
                  type="radio"
                  name="export-format"
                  value={f}
                  checked={format === f}
                  onChange={() => chooseFormat(f)}
                />
                {formatText(f, task).label}
              </label>
            ))}
          </div>
          <span className="field-hint" data-testid="export-format-help">
            {formatText(format, task).help}
          </span>
        </div>
        {merges ? (
          <TextField
            label={t('exports.weight')}
            hint={t('exports.weightHint')}
            value={weight}
            inputMode="decimal"
            onChange={(e) => setWeight(e.target.value)}
          />
        ) : null}
        {needsBase ? (
          <TextField
            label={t('exports.baseFolder')}
            hint={source.model ? t('exports.baseFolderHint') : t('exports.baseFolderRequired')}
            placeholder={source.model ?? ''}
            value={model}
            onChange={(e) => setModel(e.target.value)}
          />
        ) : null}
        <TextField
          className="span-2"
          label={t('exports.outPath')}
          hint={format === 'gguf' || format === 'lora-gguf' ? t('exports.outFileHint') : t('exports.outFolderHint')}
          value={outPath}
          onChange={(e) => setOutPath(e.target.value)}
        />
        <div className="span-2">
          {/* sized once the format is known to fit the adapter (a switch to a task adapter moves it off GGUF) */}
          {fitting.state.status === 'loading' || (fits && !fits.formats.includes(format)) ? (
            <Spinner label={t('exports.estimating')} />
          ) : (
            <Estimate
              exportsVersion={exportsVersion}
              source={source.request}
              format={format}
              type={type}
              model={model.trim() || undefined}
              customPath={outPath.trim() !== ''}
              overwrite={overwrite}
              setOverwrite={setOverwrite}
            />
          )}
        </div>
        {error ? (
          <div className="span-2">
            <Banner title={t('exports.notStarted')}>{error}</Banner>
          </div>
        ) : null}
        {started ? (
          <div className="span-2">
            <Banner tone="info">{t('exports.exportingTo', { path: started.path })}</Banner>
          </div>
        ) : null}
        <div className="form-actions span-2">
          <Button type="submit" variant="primary" icon="export" busy={busy}>
            {t('exports.start')}
          </Button>
        </div>
      </form>
    </Card>
  );
}

function Estimate({
  exportsVersion,
  source,
  format,
  type,
  model,
  customPath,
  overwrite,
  setOverwrite,
}: {
  exportsVersion: string;
  source: Source['request'];
  format: ExportFormat;
  type: ExportType;
  model?: string;
  customPath: boolean;
  overwrite: boolean;
  setOverwrite: (value: boolean) => void;
}) {
  const estimate = useQuery('exports.estimate', { ...source, format, type, ...(model ? { model } : {}) });
  // An export that finished may now occupy the default path: ask again whenever the list changes.
  const { reload } = estimate;
  useEffect(() => reload(), [exportsVersion, reload]);
  if (estimate.state.status === 'loading') return <Spinner label={t('exports.estimating')} />;
  if (estimate.state.status === 'error') return <p className="field-error">{estimate.state.error.message}</p>;
  const e = estimate.state.data;
  return (
    <div className="form-grid">
      <div className="export-estimate" aria-live="polite">
        <span>{t('exports.estimatedSize')}</span>
        <strong data-testid="export-estimate">≈ {formatBytes(e.bytes)}</strong>
        <span>
          {t('exports.estimateDetail', { tensors: e.tensors, parameters: e.parameters })}
          {customPath ? '' : t('exports.estimateTo', { path: e.path })}
        </span>
      </div>
      {e.exists && !customPath ? (
        <label className="checkbox-line">
          <input type="checkbox" checked={overwrite} onChange={(event) => setOverwrite(event.target.checked)} />
          {t('exports.existsReplace', { name: basename(e.path) })}
        </label>
      ) : customPath ? (
        <label className="checkbox-line">
          <input type="checkbox" checked={overwrite} onChange={(event) => setOverwrite(event.target.checked)} />
          {t('exports.replaceIfExists')}
        </label>
      ) : null}
    </div>
  );
}

function ExportTable({
  rows,
  adapters,
  runs,
  progress,
}: {
  rows: Export[];
  adapters: Adapter[];
  runs: Run[];
  progress: Record<string, { value: number | null; message: string | null }>;
}) {
  const client = useStudio();
  const [copied, setCopied] = useState<string | null>(null);
  const [publishing, setPublishing] = useState<Export | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const names = new Map(adapters.map((a) => [a.id, a.name]));
  const runNames = new Map(runs.map((r) => [r.id, r.name]));
  /** What an export was made from: its adapter's name, or the full fine-tune's. */
  const sourceName = (row: Export, fallback: string) =>
    row.adapterId
      ? (names.get(row.adapterId) ?? fallback)
      : row.runId
        ? t('exports.fullRun', { name: runNames.get(row.runId) ?? fallback })
        : fallback;

  async function copy(row: Export) {
    try {
      await navigator.clipboard.writeText(row.path);
      setCopied(row.id);
      setActionError(null);
    } catch {
      setActionError(t('exports.copyRefused'));
    }
  }

  const columns: Column<Export>[] = [
    {
      key: 'what',
      header: t('exports.export'),
      render: (row) => (
        <div className="project-cell">
          <span className="project-name">{`${formatLabel(row.format)} · ${row.type}`}</span>
          <span className="project-description">{`${sourceName(row, row.adapterId ? 'adapter' : 'model')} · ${formatDateTime(row.createdAt)}`}</span>
        </div>
      ),
    },
    {
      key: 'status',
      header: t('exports.status'),
      render: (row) => {
        const live = row.jobId ? progress[row.jobId] : undefined;
        return (
          <div className="export-status">
            <StatusBadge status={row.status} />
            {row.status === 'running' || row.status === 'queued' ? (
              <>
                <ProgressBar
                  value={live?.value ?? null}
                  label={t('exports.progressOf', { format: formatLabel(row.format) })}
                />
                {live?.message ? <span className="run-progress-text">{live.message}</span> : null}
              </>
            ) : null}
            {row.status === 'failed' && row.error ? <span className="run-error">{row.error}</span> : null}
          </div>
        );
      },
    },
    {
      key: 'size',
      header: t('exports.size'),
      className: 'numeric cell-nowrap',
      render: (row) =>
        row.sizeBytes !== null
          ? formatBytes(row.sizeBytes)
          : row.estimatedBytes !== null
            ? `≈ ${formatBytes(row.estimatedBytes)}`
            : '—',
    },
    {
      key: 'where',
      header: t('exports.writtenTo'),
      render: (row) => (
        <div className="project-cell">
          <div className="export-path">
            <code>{row.path}</code>
          </div>
          {row.format === 'gguf' && row.status === 'succeeded' ? (
            // The export wrote a Modelfile beside the GGUF: this loads it into Ollama.
            <span className="project-description" data-testid="ollama-create">
              Ollama: <code>{ollamaCreateForGguf(row.path)}</code>
            </span>
          ) : null}
        </div>
      ),
    },
    {
      key: 'actions',
      header: <span className="visually-hidden">{t('common.actions')}</span>,
      className: 'cell-actions cell-nowrap',
      render: (row) =>
        row.status === 'running' || row.status === 'queued' ? (
          <Button
            size="sm"
            variant="danger"
            onClick={() =>
              row.jobId &&
              void client
                .invoke('jobs.cancel', { id: row.jobId })
                .catch((err: unknown) => setActionError(toStudioApiError(err).message))
            }
          >
            {t('common.cancel')}
          </Button>
        ) : row.status === 'succeeded' ? (
          <span className="row-actions">
            <Button
              size="sm"
              variant="ghost"
              icon={copied === row.id ? 'check' : undefined}
              onClick={() => void copy(row)}
              aria-label={t('exports.copyLabel', { format: formatLabel(row.format) })}
            >
              {copied === row.id ? t('exports.copied') : t('exports.copyPath')}
            </Button>
            {client.fileUrl && row.inExportsFolder ? (
              // A plain link: the browser streams the file (or the folder's .tar) straight to disk.
              <a
                className="btn btn-ghost btn-sm"
                href={client.fileUrl(exportDownloadPath(row.id))}
                download
                aria-label={t('exports.downloadLabel', {
                  format: formatLabel(row.format),
                  tar: row.format === 'hf' || row.format === 'peft' || row.format === 'onnx',
                })}
              >
                {t('exports.download')}
              </a>
            ) : null}
            {window.studio !== undefined ? (
              <Button
                size="sm"
                variant="ghost"
                onClick={() =>
                  void client
                    .invoke('dialogs.reveal', { path: row.path })
                    .catch((err: unknown) => setActionError(toStudioApiError(err).message))
                }
                aria-label={t('exports.showLabel', { format: formatLabel(row.format) })}
              >
                {t('exports.showInFolder')}
              </Button>
            ) : null}
            <Button
              size="sm"
              variant="ghost"
              onClick={() => setPublishing(row)}
              aria-label={t('publish.exportLabel', { format: formatLabel(row.format) })}
            >
              {t('publish.button')}
            </Button>
          </span>
        ) : null,
    },
  ];
  return (
    <>
      {actionError ? <Banner>{actionError}</Banner> : null}
      <Table caption={t('nav.exports')} columns={columns} rows={rows} rowKey={(row) => row.id} />
      {publishing ? (
        <PublishDialog
          target={{ exportId: publishing.id }}
          title={t('publish.titleExport', { format: formatLabel(publishing.format) })}
          suggestedName={`${publishing.adapterId ? (names.get(publishing.adapterId) ?? 'model') : publishing.runId ? (runNames.get(publishing.runId) ?? 'model') : 'model'}${publishing.format === 'gguf' ? '-GGUF' : ''}`}
          onClose={() => setPublishing(null)}
        />
      ) : null}
    </>
  );
}
