// Adapters of the current project: each finished run's adapter, imported PEFT folders and combinations, with
// their configuration and size. From here an adapter opens in Chat (where its scale is a slider), merges into
// its base model (an export job, followed on the Exports page), or combines with others into a new adapter.
import { useState } from 'react';
import type { Adapter, AdapterDetail, AdapterPart } from '../../../common/api/adapters.ts';
import { formatNumber, t } from '../i18n/t.ts';
import type { Project } from '../../../common/api/projects.ts';
import { toStudioApiError } from '../api/client.ts';
import { useEvent, useQuery } from '../api/hooks.ts';
import {
  Banner,
  Button,
  Card,
  detailsId,
  Dialog,
  EmptyState,
  PageHeader,
  ProgressBar,
  QueryView,
  Table,
  TextField,
  type Column,
} from '../components/index.ts';
import { basename, formatBytes, formatDateTime } from '../format.ts';
import { routeHref } from '../routes.ts';
import { useStudio } from '../state/studio.tsx';
import { chatHref } from './ChatLinks.ts';
import { ProjectGate } from './ProjectGate.tsx';
import { useJobEnd } from './useJobEnd.ts';
import { PublishDialog } from './PublishDialog.tsx';
import { LearnCombinationDialog } from './LearnCombinationDialog.tsx';
import './Adapters.css';

const will = () => [t('adapters.will1'), t('adapters.will2'), t('adapters.will3')];

/** "0.5 × sums r4 + 1 × handmade": the weighted sum a combined adapter equals. */
function partsText(parts: AdapterPart[]): string {
  return parts.map((p) => `${formatNumber(p.weight)} × ${p.name}`).join(' + ');
}

const sourceLabel = (source: Adapter['source']) => t(`adapters.source.${source}`);

export function AdaptersPage() {
  const [importing, setImporting] = useState(false);
  return (
    <>
      <PageHeader
        title={t('nav.adapters')}
        description={t('adapters.description')}
        actions={
          <Button icon="plus" onClick={() => setImporting(true)}>
            {t('adapters.import')}
          </Button>
        }
      />
      <ProjectGate pageTitle={t('nav.adapters')} icon="layers" will={will()}>
        {(project) => (
          <AdapterList
            key={project.id}
            project={project}
            importing={importing}
            onImportClosed={() => setImporting(false)}
          />
        )}
      </ProjectGate>
    </>
  );
}

interface CombineJob {
  jobId: string;
  name: string;
  progress: number | null;
  message: string | null;
  error: string | null;
  done: boolean;
}

function AdapterList({
  project,
  importing,
  onImportClosed,
}: {
  project: Project;
  importing: boolean;
  onImportClosed: () => void;
}) {
  const client = useStudio();
  const adapters = useQuery('adapters.list', { projectId: project.id });
  const [selected, setSelected] = useState<string[]>([]);
  const [details, setDetails] = useState<string | null>(null);
  const [merging, setMerging] = useState<Adapter | null>(null);
  const [publishing, setPublishing] = useState<Adapter | null>(null);
  const [combining, setCombining] = useState(false);
  const [learning, setLearning] = useState(false);
  const [combineJob, setCombineJob] = useState<CombineJob | null>(null);
  const [notice, setNotice] = useState<{ text: string; href?: string; link?: string; jobId?: string } | null>(null);
  // A merge's notice lasts while its job does (the Exports page keeps the outcome).
  useJobEnd(notice?.jobId ?? null, () => setNotice(null));

  useEvent('job.status', (job) => {
    if (job.projectId !== project.id) return;
    if (job.kind === 'train' || job.kind === 'adapter.combine') adapters.reload();
    if (combineJob && job.id === combineJob.jobId && ['succeeded', 'failed', 'cancelled'].includes(job.status)) {
      setCombineJob({
        ...combineJob,
        done: true,
        progress: 1,
        error: job.status === 'succeeded' ? null : (job.error ?? job.status),
      });
      setSelected([]);
    }
  });
  useEvent('job.progress', (event) => {
    if (combineJob && event.jobId === combineJob.jobId)
      setCombineJob({ ...combineJob, progress: event.progress, message: event.message });
  });

  const list = adapters.state.status === 'ready' ? adapters.state.data : [];
  const chosen = list.filter((a) => selected.includes(a.id));

  const columns: Column<Adapter>[] = [
    {
      key: 'pick',
      header: <span className="visually-hidden">{t('adapters.selectHeader')}</span>,
      width: '36px',
      render: (a) => (
        <input
          type="checkbox"
          aria-label={t('adapters.selectLabel', { name: a.name })}
          checked={selected.includes(a.id)}
          disabled={a.problem !== null}
          onChange={(event) =>
            setSelected((current) => (event.target.checked ? [...current, a.id] : current.filter((id) => id !== a.id)))
          }
        />
      ),
    },
    {
      key: 'name',
      header: t('adapters.adapter'),
      className: 'adapter-name-cell',
      render: (a) => (
        <div className="project-cell">
          <span className="project-name">{a.name}</span>
          <span className="project-description">
            {sourceLabel(a.source)}
            {a.baseModel ? t('adapters.onBase', { model: basename(a.baseModel) }) : t('adapters.baseUnknown')}
            {a.step !== null ? t('adapters.atStep', { step: a.step }) : ''}
          </span>
          {a.combinedFrom ? (
            <span className="project-description" data-testid={`parts-${a.name}`}>
              {t('adapters.madeOfLine', { parts: partsText(a.combinedFrom) })}
            </span>
          ) : null}
          <span className="project-description">{formatDateTime(a.createdAt)}</span>
          {a.problem ? <span className="run-error">{a.problem}</span> : null}
        </div>
      ),
    },
    {
      key: 'rank',
      header: t('adapters.rankAlpha'),
      className: 'numeric cell-nowrap',
      render: (a) => `${a.r} / ${a.loraAlpha}`,
    },
    {
      key: 'targets',
      header: t('adapters.layersAdapted'),
      render: (a) =>
        a.targetModules.length > 6 ? `${a.targetModules.slice(0, 6).join(', ')}, …` : a.targetModules.join(', ') || '—',
    },
    {
      key: 'size',
      header: t('adapters.size'),
      className: 'numeric cell-nowrap',
      render: (a) => (a.sizeBytes === null ? '—' : formatBytes(a.sizeBytes)),
    },
    {
      key: 'actions',
      header: <span className="visually-hidden">{t('common.actions')}</span>,
      // five actions on one line made the table wider than its card at 1280 px ("Publish" cut off at the edge): they
      // wrap onto a second line when the columns need the room
      className: 'cell-actions cell-actions-wrap',
      render: (a) => (
        <div className="row-actions">
          <a
            className="btn btn-ghost btn-sm"
            href={chatHref({ adapterOrRunId: a.id })}
            aria-label={t('adapters.chatLabel', { name: a.name })}
          >
            {t('adapters.chat')}
          </a>
          <Button
            size="sm"
            variant="ghost"
            onClick={() => setDetails(details === a.id ? null : a.id)}
            aria-expanded={details === a.id}
            aria-controls={details === a.id ? detailsId(a.id) : undefined}
            aria-label={t('adapters.detailsLabel', { name: a.name })}
          >
            {t('adapters.details')}
          </Button>
          <Button
            size="sm"
            variant="ghost"
            disabled={a.problem !== null}
            onClick={() => setMerging(a)}
            aria-label={t('adapters.mergeLabel', { name: a.name })}
          >
            {t('adapters.merge')}
          </Button>
          <a
            className="btn btn-ghost btn-sm"
            href={routeHref('exports', a.id)}
            aria-label={t('adapters.exportLabel', { name: a.name })}
          >
            {t('adapters.export')}
          </a>
          <Button
            size="sm"
            variant="ghost"
            disabled={a.problem !== null}
            onClick={() => setPublishing(a)}
            aria-label={t('publish.adapterLabel', { name: a.name })}
          >
            {t('publish.button')}
          </Button>
        </div>
      ),
    },
  ];

  return (
    <>
      {notice ? (
        <Banner
          tone="info"
          actions={
            notice.href ? (
              <a className="btn btn-secondary btn-sm" href={notice.href}>
                {notice.link}
              </a>
            ) : undefined
          }
        >
          {notice.text}
        </Banner>
      ) : null}
      {combineJob ? <CombineProgress job={combineJob} onDismiss={() => setCombineJob(null)} /> : null}
      <QueryView
        state={adapters.state}
        loadingLabel={t('exports.loadingAdapters')}
        errorTitle={t('exports.adaptersFailed')}
        onRetry={adapters.reload}
      >
        {(rows) =>
          rows.length === 0 ? (
            <Card>
              <EmptyState icon="layers" title={t('adapters.none', { project: project.name })} points={will()}>
                {t('adapters.noneBody')}
              </EmptyState>
            </Card>
          ) : (
            <Card
              flush
              title={t('adapters.count', { count: rows.length })}
              actions={
                <>
                  <Button
                    size="sm"
                    disabled={chosen.length < 2}
                    onClick={() => setCombining(true)}
                    title={chosen.length < 2 ? t('adapters.selectTwo') : undefined}
                  >
                    {t('adapters.combineSelected', { count: chosen.length })}
                  </Button>
                  <Button
                    size="sm"
                    disabled={chosen.length < 2}
                    onClick={() => setLearning(true)}
                    title={chosen.length < 2 ? t('adapters.selectTwo') : undefined}
                  >
                    {t('adapters.learnCombination')}
                  </Button>
                </>
              }
            >
              {/* an adapter's details open in a row right under its own (they were under the whole table) */}
              <Table
                caption={t('nav.adapters')}
                columns={columns}
                rows={rows}
                rowKey={(a) => a.id}
                expanded={(a) => (details === a.id ? <AdapterDetails id={a.id} name={a.name} /> : null)}
              />
            </Card>
          )
        }
      </QueryView>
      <ImportDialog
        open={importing}
        projectId={project.id}
        onClose={onImportClosed}
        onImported={(a) => {
          onImportClosed();
          adapters.reload();
          setNotice({ text: t('adapters.imported', { name: a.name }) });
        }}
      />
      {publishing ? (
        <PublishDialog
          target={{ adapterId: publishing.id }}
          title={t('publish.titleAdapter', { name: publishing.name })}
          suggestedName={publishing.name}
          onClose={() => setPublishing(null)}
        />
      ) : null}
      {merging ? (
        <MergeDialog
          adapter={merging}
          onClose={() => setMerging(null)}
          onStarted={(path, jobId) => {
            setMerging(null);
            setNotice({
              jobId: jobId ?? undefined,
              text: t('adapters.merging', { name: merging.name, path }),
              href: routeHref('exports'),
              link: t('adapters.goToExports'),
            });
          }}
        />
      ) : null}
      {learning ? (
        <LearnCombinationDialog
          projectId={project.id}
          adapters={chosen}
          onClose={() => setLearning(false)}
          onStarted={(run) => {
            setLearning(false);
            setSelected([]);
            setNotice({ text: t('fusion.started', { name: run.name }), href: routeHref('runs', run.id), link: t('fusion.openRun') });
          }}
        />
      ) : null}
      {combining ? (
        <CombineDialog
          adapters={chosen}
          onClose={() => setCombining(false)}
          onSubmit={async (name, weights) => {
            const started = await client.invoke('adapters.combine', {
              projectId: project.id,
              name,
              adapters: chosen.map((a, i) => ({ id: a.id, weight: weights[i] })),
            });
            setCombining(false);
            setCombineJob({ jobId: started.jobId, name, progress: null, message: null, error: null, done: false });
          }}
        />
      ) : null}
    </>
  );
}

function CombineProgress({ job, onDismiss }: { job: CombineJob; onDismiss: () => void }) {
  if (job.done && job.error) {
    return (
      <Banner
        title={t('adapters.combineFailed', { name: job.name })}
        actions={
          <Button size="sm" onClick={onDismiss}>
            {t('adapters.dismiss')}
          </Button>
        }
      >
        {job.error}
      </Banner>
    );
  }
  if (job.done) {
    return (
      <Banner
        tone="info"
        actions={
          <Button size="sm" onClick={onDismiss}>
            {t('adapters.dismiss')}
          </Button>
        }
      >
        {t('adapters.combineReady', { name: job.name })}
      </Banner>
    );
  }
  return (
    <Card>
      <div className="run-progress">
        <ProgressBar value={job.progress} label={t('adapters.combiningLabel', { name: job.name })} />
        <span className="run-progress-text">{job.message ?? t('adapters.combining', { name: job.name })}</span>
      </div>
    </Card>
  );
}

function AdapterDetails({ id, name }: { id: string; name: string }) {
  const detail = useQuery('adapters.get', { id });
  return (
    <div className="adapter-details" role="region" aria-label={t('adapters.detailsOf', { name })}>
      <QueryView state={detail.state} loadingLabel={t('adapters.reading')} errorTitle={t('adapters.readFailed')}>
        {(d: AdapterDetail) => (
          <div className="adapter-details-grid">
            <dl className="kv">
              <dt>{t('adapters.folder')}</dt>
              <dd className="mono-path">{d.path}</dd>
              <dt>{t('chat.baseModel')}</dt>
              <dd className="mono-path">{d.baseModel ?? t('adapters.baseUnknownLong')}</dd>
              <dt>{t('adapters.layersWithLora')}</dt>
              <dd>{d.layers}</dd>
              <dt>{t('adapters.trainableNumbers')}</dt>
              <dd>{formatNumber(d.parameters)}</dd>
              <dt>{t('adapters.scale')}</dt>
              <dd>{`${d.useRslora ? 'alpha / √r' : 'alpha / r'} = ${(d.useRslora ? d.loraAlpha / Math.sqrt(d.r) : d.loraAlpha / d.r).toFixed(3)}`}</dd>
              <dt>{t('adapters.template')}</dt>
              <dd>
                {d.template
                  ? d.template.chatTemplate
                    ? t('adapters.chatTemplateSaved')
                    : String(d.template.template.kind ?? d.template.template.type ?? t('adapters.saved'))
                  : t('adapters.noneSaved')}
              </dd>
              {d.combinedFrom ? (
                <>
                  <dt>{t('adapters.madeOf')}</dt>
                  <dd>
                    <ul className="adapter-parts" aria-label={t('adapters.partsOf', { name: d.name })}>
                      {d.combinedFrom.map((part) => (
                        <li key={part.adapterId}>
                          {t('adapters.part', { name: part.name, weight: part.weight })}{' '}
                          <span className="mono-path">{part.path}</span>
                        </li>
                      ))}
                    </ul>
                  </dd>
                </>
              ) : null}
              <dt>{t('adapters.files')}</dt>
              <dd>{d.files.map((f) => `${f.name} (${formatBytes(f.sizeBytes)})`).join(', ')}</dd>
            </dl>
            <pre className="config-json" aria-label={t('adapters.configOf', { name: d.name })}>
              {JSON.stringify(d.config, null, 2)}
            </pre>
          </div>
        )}
      </QueryView>
    </div>
  );
}

function ImportDialog({
  open,
  projectId,
  onClose,
  onImported,
}: {
  open: boolean;
  projectId: string;
  onClose: () => void;
  onImported: (a: Adapter) => void;
}) {
  const client = useStudio();
  const [path, setPath] = useState('');
  const [name, setName] = useState('');
  const [model, setModel] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function submit() {
    if (!path.trim()) {
      setError(t('adapters.enterFolder'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const a = await client.invoke('adapters.import', {
        projectId,
        path: path.trim(),
        ...(name.trim() ? { name: name.trim() } : {}),
        ...(model.trim() ? { model: model.trim() } : {}),
      });
      setPath('');
      setName('');
      setModel('');
      onImported(a);
    } catch (err) {
      setError(toStudioApiError(err).message);
    } finally {
      setBusy(false);
    }
  }
  return (
    <Dialog
      open={open}
      title={t('adapters.importTitle')}
      onClose={onClose}
      onSubmit={() => void submit()}
      onEdit={() => setError(null)}
      busy={busy}
      actions={
        <>
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button type="submit" variant="primary" busy={busy}>
            {t('datasets.import')}
          </Button>
        </>
      }
    >
      <div className="form-grid">
        {error ? <Banner title={t('adapters.notImported')}>{error}</Banner> : null}
        <TextField
          label={t('adapters.adapterFolder')}
          hint={t('adapters.adapterFolderHint')}
          value={path}
          onChange={(e) => setPath(e.target.value)}
          autoFocus
        />
        <TextField
          label={t('projects.name')}
          hint={t('adapters.nameHint')}
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <TextField
          label={t('exports.baseFolder')}
          hint={t('adapters.importBaseHint')}
          value={model}
          onChange={(e) => setModel(e.target.value)}
        />
      </div>
    </Dialog>
  );
}

function MergeDialog({
  adapter,
  onClose,
  onStarted,
}: {
  adapter: Adapter;
  onClose: () => void;
  onStarted: (path: string, jobId: string | null) => void;
}) {
  const client = useStudio();
  const [dtype, setDtype] = useState<'bf16' | 'f16' | 'f32'>('bf16');
  const [weight, setWeight] = useState('1');
  const [model, setModel] = useState(adapter.baseModel ?? '');
  const [outPath, setOutPath] = useState('');
  const [overwrite, setOverwrite] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function submit() {
    const w = Number(weight);
    if (!Number.isFinite(w) || weight.trim() === '') {
      setError(t('adapters.mergeWeightNotNumber', { weight }));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const started = await client.invoke('adapters.merge', {
        id: adapter.id,
        dtype,
        weight: w,
        overwrite,
        ...(model.trim() ? { model: model.trim() } : {}),
        ...(outPath.trim() ? { outPath: outPath.trim() } : {}),
      });
      onStarted(started.path, started.jobId);
    } catch (err) {
      setError(toStudioApiError(err).message);
    } finally {
      setBusy(false);
    }
  }
  return (
    <Dialog
      open
      title={t('adapters.mergeTitle', { name: adapter.name })}
      onClose={onClose}
      onSubmit={() => void submit()}
      onEdit={() => setError(null)}
      busy={busy}
      actions={
        <>
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button type="submit" variant="primary" busy={busy}>
            {t('adapters.startMerge')}
          </Button>
        </>
      }
    >
      <div className="form-grid">
        <p className="muted">{t('adapters.mergeBody')}</p>
        {error ? <Banner title={t('adapters.notStarted')}>{error}</Banner> : null}
        <div className="field">
          <span className="field-label" id="merge-dtype-label">
            {t('adapters.weights')}
          </span>
          <div className="segmented" role="radiogroup" aria-labelledby="merge-dtype-label">
            {(['bf16', 'f16', 'f32'] as const).map((d) => (
              <label key={d}>
                <input type="radio" name="merge-dtype" value={d} checked={dtype === d} onChange={() => setDtype(d)} />
                {d}
              </label>
            ))}
          </div>
          <span className="field-hint">{t('adapters.weightsHint')}</span>
        </div>
        <TextField
          label={t('exports.weight')}
          hint={t('exports.weightHint')}
          value={weight}
          onChange={(e) => setWeight(e.target.value)}
          inputMode="decimal"
        />
        <TextField
          label={t('exports.baseFolder')}
          hint={t('adapters.mergeBaseHint')}
          value={model}
          onChange={(e) => setModel(e.target.value)}
        />
        <TextField
          label={t('adapters.outFolder')}
          hint={t('exports.outFolderHint')}
          value={outPath}
          onChange={(e) => setOutPath(e.target.value)}
        />
        <label className="checkbox-line">
          <input type="checkbox" checked={overwrite} onChange={(e) => setOverwrite(e.target.checked)} />{' '}
          {t('adapters.replaceFolder')}
        </label>
      </div>
    </Dialog>
  );
}

function CombineDialog({
  adapters,
  onClose,
  onSubmit,
}: {
  adapters: Adapter[];
  onClose: () => void;
  onSubmit: (name: string, weights: number[]) => Promise<void>;
}) {
  const [name, setName] = useState(
    adapters
      .map((a) => a.name)
      .join(' + ')
      .slice(0, 80),
  );
  const [weights, setWeights] = useState<string[]>(adapters.map(() => '1'));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const bases = new Set(adapters.map((a) => a.baseModel).filter(Boolean));
  async function submit() {
    const parsed = weights.map(Number);
    const bad = weights.findIndex((w, i) => w.trim() === '' || !Number.isFinite(parsed[i]));
    if (bad >= 0) {
      setError(t('adapters.weightOfNotNumber', { name: adapters[bad].name }));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await onSubmit(name.trim(), parsed);
    } catch (err) {
      setError(toStudioApiError(err).message);
      setBusy(false);
    }
  }
  return (
    <Dialog
      open
      title={t('adapters.combineTitle')}
      onClose={onClose}
      onSubmit={() => void submit()}
      onEdit={() => setError(null)}
      busy={busy}
      actions={
        <>
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button type="submit" variant="primary" busy={busy}>
            {t('adapters.combine')}
          </Button>
        </>
      }
    >
      <div className="form-grid">
        <p className="muted">{t('adapters.combineBody')}</p>
        {bases.size > 1 ? (
          <Banner title={t('adapters.differentBases')}>{t('adapters.differentBasesBody')}</Banner>
        ) : null}
        {error ? <Banner title={t('adapters.notCombined')}>{error}</Banner> : null}
        <TextField label={t('adapters.newName')} value={name} onChange={(e) => setName(e.target.value)} />
        {adapters.map((a, i) => (
          <TextField
            key={a.id}
            label={t('adapters.weightOf', { name: a.name })}
            hint={t('adapters.weightOfHint')}
            value={weights[i]}
            inputMode="decimal"
            onChange={(e) => setWeights((current) => current.map((w, j) => (j === i ? e.target.value : w)))}
          />
        ))}
      </div>
    </Dialog>
  );
}
