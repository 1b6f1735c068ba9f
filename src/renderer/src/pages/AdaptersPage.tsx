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
      header: <span className="visually-hidden">Select to combine</span>,
      width: '36px',
      render: (a) => (
        <input
          type="checkbox"
          aria-label={`Select ${a.name} to combine`}
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
      header: 'Adapter',
      className: 'adapter-name-cell',
      render: (a) => (
        <div className="project-cell">
          <span className="project-name">{a.name}</span>
          <span className="project-description">
            {sourceLabel(a.source)}
            {a.baseModel ? ` · on ${basename(a.baseModel)}` : ' · base model unknown'}
            {a.step !== null ? ` · step ${a.step}` : ''}
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
    { key: 'rank', header: 'Rank / alpha', className: 'numeric cell-nowrap', render: (a) => `${a.r} / ${a.loraAlpha}` },
    {
      key: 'targets',
      header: 'Layers adapted',
      render: (a) =>
        a.targetModules.length > 6 ? `${a.targetModules.slice(0, 6).join(', ')}, …` : a.targetModules.join(', ') || '—',
    },
    {
      key: 'size',
      header: 'Size',
      className: 'numeric cell-nowrap',
      render: (a) => (a.sizeBytes === null ? '—' : formatBytes(a.sizeBytes)),
    },
    {
      key: 'actions',
      header: <span className="visually-hidden">Actions</span>,
      className: 'cell-actions cell-nowrap',
      render: (a) => (
        <div className="row-actions">
          <a
            className="btn btn-ghost btn-sm"
            href={chatHref({ adapterOrRunId: a.id })}
            aria-label={`Chat with ${a.name}`}
          >
            Chat
          </a>
          <Button
            size="sm"
            variant="ghost"
            onClick={() => setDetails(details === a.id ? null : a.id)}
            aria-expanded={details === a.id}
            aria-label={`Details of ${a.name}`}
          >
            Details
          </Button>
          <Button
            size="sm"
            variant="ghost"
            disabled={a.problem !== null}
            onClick={() => setMerging(a)}
            aria-label={`Merge ${a.name}`}
          >
            Merge
          </Button>
          <a className="btn btn-ghost btn-sm" href={routeHref('exports', a.id)} aria-label={`Export ${a.name}`}>
            Export
          </a>
          <Button
            size="sm"
            variant="ghost"
            disabled={a.problem !== null}
            onClick={() => setPublishing(a)}
            aria-label={`Publish ${a.name}`}
          >
            Publish…
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
        loadingLabel="Loading adapters…"
        errorTitle="Could not load the adapters"
        onRetry={adapters.reload}
      >
        {(rows) =>
          rows.length === 0 ? (
            <Card>
              <EmptyState icon="layers" title={`No adapters in “${project.name}” yet`} points={will()}>
                Every finished run leaves an adapter, and it shows up here. You can also import a PEFT adapter folder
                trained elsewhere.
              </EmptyState>
            </Card>
          ) : (
            <Card
              flush
              title={`${rows.length} adapter${rows.length === 1 ? '' : 's'}`}
              actions={
                <Button
                  size="sm"
                  disabled={chosen.length < 2}
                  onClick={() => setCombining(true)}
                  title={chosen.length < 2 ? 'Select two or more adapters of the same base model' : undefined}
                >
                  Combine selected{chosen.length >= 2 ? ` (${chosen.length})` : ''}
                </Button>
              }
            >
              <Table caption="Adapters" columns={columns} rows={rows} rowKey={(a) => a.id} />
              {details ? <AdapterDetails id={details} /> : null}
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
          setNotice({ text: `Imported “${a.name}”.` });
        }}
      />
      {publishing ? (
        <PublishDialog
          target={{ adapterId: publishing.id }}
          what={`“${publishing.name}”`}
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
              text: `Merging “${merging.name}” into ${path}. Follow it on the Exports page.`,
              href: routeHref('exports'),
              link: 'Go to Exports',
            });
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
        title={`Combining “${job.name}” failed`}
        actions={
          <Button size="sm" onClick={onDismiss}>
            Dismiss
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
            Dismiss
          </Button>
        }
      >
        {`“${job.name}” is ready: it is listed below as a new adapter.`}
      </Banner>
    );
  }
  return (
    <Card>
      <div className="run-progress">
        <ProgressBar value={job.progress} label={`Combining ${job.name}`} />
        <span className="run-progress-text">{job.message ?? `Combining “${job.name}”…`}</span>
      </div>
    </Card>
  );
}

function AdapterDetails({ id }: { id: string }) {
  const detail = useQuery('adapters.get', { id });
  return (
    <div className="adapter-details">
      <QueryView state={detail.state} loadingLabel="Reading the adapter…" errorTitle="Could not read the adapter">
        {(d: AdapterDetail) => (
          <div className="adapter-details-grid">
            <dl className="kv">
              <dt>Folder</dt>
              <dd className="mono-path">{d.path}</dd>
              <dt>Base model</dt>
              <dd className="mono-path">{d.baseModel ?? 'unknown (give it when merging or exporting)'}</dd>
              <dt>Layers with LoRA</dt>
              <dd>{d.layers}</dd>
              <dt>Trainable numbers</dt>
              <dd>{d.parameters.toLocaleString()}</dd>
              <dt>Scale</dt>
              <dd>{`${d.useRslora ? 'alpha / √r' : 'alpha / r'} = ${(d.useRslora ? d.loraAlpha / Math.sqrt(d.r) : d.loraAlpha / d.r).toFixed(3)}`}</dd>
              <dt>Template</dt>
              <dd>
                {d.template
                  ? d.template.chatTemplate
                    ? 'chat template saved with it'
                    : String(d.template.template.kind ?? d.template.template.type ?? 'saved')
                  : 'none saved'}
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
              <dt>Files</dt>
              <dd>{d.files.map((f) => `${f.name} (${formatBytes(f.sizeBytes)})`).join(', ')}</dd>
            </dl>
            <pre className="config-json" aria-label={`adapter_config.json of ${d.name}`}>
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
      setError('Enter the folder that holds adapter_config.json and adapter_model.safetensors.');
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
      title="Import a PEFT adapter"
      onClose={onClose}
      onSubmit={() => void submit()}
      busy={busy}
      actions={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>
            Import
          </Button>
        </>
      }
    >
      <div className="form-grid">
        {error ? <Banner title="Not imported">{error}</Banner> : null}
        <TextField
          label="Adapter folder"
          hint="A folder with adapter_config.json and adapter_model.safetensors (as Python PEFT saves it)."
          value={path}
          onChange={(e) => setPath(e.target.value)}
          autoFocus
        />
        <TextField
          label="Name"
          hint="How it is listed (default: the folder’s name)."
          value={name}
          onChange={(e) => setName(e.target.value)}
        />
        <TextField
          label="Base model folder"
          hint="The model it was trained on; checked against the adapter’s layers. Optional."
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
      setError(`“${weight}” is not a number; 1 merges the adapter as trained.`);
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
      title={`Merge “${adapter.name}” into its base model`}
      onClose={onClose}
      onSubmit={() => void submit()}
      busy={busy}
      actions={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>
            Start merge
          </Button>
        </>
      }
    >
      <div className="form-grid">
        <p className="muted">
          Writes a full Hugging Face model folder with the adapter built in: transformers, vLLM and llama.cpp’s
          converter read it without PEFT.
        </p>
        {error ? <Banner title="Not started">{error}</Banner> : null}
        <div className="field">
          <span className="field-label" id="merge-dtype-label">
            Weights
          </span>
          <div className="segmented" role="radiogroup" aria-labelledby="merge-dtype-label">
            {(['bf16', 'f16', 'f32'] as const).map((d) => (
              <label key={d}>
                <input type="radio" name="merge-dtype" value={d} checked={dtype === d} onChange={() => setDtype(d)} />
                {d}
              </label>
            ))}
          </div>
          <span className="field-hint">bf16 and f16 are half the size of f32; bf16 is the usual choice.</span>
        </div>
        <TextField
          label="Adapter weight"
          hint="1 = as trained; 0.5 = half its effect."
          value={weight}
          onChange={(e) => setWeight(e.target.value)}
          inputMode="decimal"
        />
        <TextField
          label="Base model folder"
          hint="The model the adapter was trained on."
          value={model}
          onChange={(e) => setModel(e.target.value)}
        />
        <TextField
          label="Output folder"
          hint="Leave empty for the studio’s exports folder."
          value={outPath}
          onChange={(e) => setOutPath(e.target.value)}
        />
        <label className="checkbox-line">
          <input type="checkbox" checked={overwrite} onChange={(e) => setOverwrite(e.target.checked)} /> Replace the
          folder if it already exists
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
      setError(`The weight of “${adapters[bad].name}” is not a number.`);
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
      title="Combine adapters"
      onClose={onClose}
      onSubmit={() => void submit()}
      busy={busy}
      actions={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>
            Combine
          </Button>
        </>
      }
    >
      <div className="form-grid">
        <p className="muted">
          The new adapter applies each one scaled by its weight, exactly: its rank is the sum of theirs.
        </p>
        {bases.size > 1 ? (
          <Banner title="Different base models">
            These adapters were trained on different base models; only adapters of one base model can be combined.
          </Banner>
        ) : null}
        {error ? <Banner title="Not combined">{error}</Banner> : null}
        <TextField label="New adapter name" value={name} onChange={(e) => setName(e.target.value)} />
        {adapters.map((a, i) => (
          <TextField
            key={a.id}
            label={`Weight of ${a.name}`}
            hint="1 = as trained, 0.5 = half, negative subtracts it."
            value={weights[i]}
            inputMode="decimal"
            onChange={(e) => setWeights((current) => current.map((w, j) => (j === i ? e.target.value : w)))}
          />
        ))}
      </div>
    </Dialog>
  );
}
