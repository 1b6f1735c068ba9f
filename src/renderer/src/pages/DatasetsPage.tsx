// Datasets of the current project (#/datasets) and the previewer of one (#/datasets/<id>): import a file as a
// job with progress; page through rows; see a row as the exact training text with special tokens visible and
// trained vs masked tokens coloured; the token-length histogram with the max-length cut-off; the bad rows.
import { useState } from 'react';
import type { Dataset } from '../../../common/api/datasets.ts';
import type { Project } from '../../../common/api/projects.ts';
import { toStudioApiError } from '../api/client.ts';
import { useQuery } from '../api/hooks.ts';
import { Button, Card, EmptyState, PageHeader, QueryView, Table, TextField, type Column } from '../components/index.ts';
import { formatDateTime } from '../format.ts';
import { routeHref } from '../routes.ts';
import { useLocation } from '../state/location.ts';
import { useStudio } from '../state/studio.tsx';
import { ProjectGate } from './ProjectGate.tsx';
import { LengthHistogram, ProblemList, TokenView } from './wizard/preview-parts.tsx';
import { DuplicateList, TokenizationWarning } from './dataset-report.tsx';
import { t } from '../i18n/t.ts';
import { JobProgress } from './wizard/JobProgress.tsx';
import { useJob } from './wizard/useJob.ts';
import { BrowseButton } from './wizard/BrowseButton.tsx';
import './wizard/wizard.css';

const WILL = [
  'Import JSONL, JSON, CSV/TSV or Parquet files and detect their format and columns.',
  'Page through rows and see the exact training text, with trained and masked tokens marked.',
  'See the token-length histogram and how much the max length would cut.',
];

const PAGE_SIZE = 10;

export function DatasetsPage() {
  const { params } = useLocation();
  return (
    <>
      <PageHeader title="Datasets" description="The training and evaluation data of the current project, checked and previewed as training will see it." />
      <ProjectGate pageTitle="Datasets" icon="table" will={WILL}>
        {(project) => (params[0] ? <DatasetDetail key={params[0]} id={params[0]} /> : <DatasetList key={project.id} project={project} />)}
      </ProjectGate>
    </>
  );
}

function DatasetList({ project }: { project: Project }) {
  const client = useStudio();
  const datasets = useQuery('datasets.list', { projectId: project.id });
  const [path, setPath] = useState('');
  const [onProblem, setOnProblem] = useState<'skip' | 'stop'>('skip');
  const [error, setError] = useState<string | null>(null);
  const importing = useJob((job) => {
    if (job.status === 'succeeded') datasets.reload();
  });
  const running = importing.running;

  const start = async () => {
    setError(null);
    try {
      importing.track(await client.invoke('datasets.import', { projectId: project.id, path: path.trim(), onProblem }));
    } catch (e) {
      setError(toStudioApiError(e).message);
    }
  };
  const remove = async (d: Dataset) => {
    await client.invoke('datasets.delete', { id: d.id });
    datasets.reload();
  };

  const columns: Column<Dataset>[] = [
    { key: 'name', header: 'Dataset', render: (d) => <a href={routeHref('datasets', d.id)}>{d.name}</a> },
    { key: 'format', header: 'Format', render: (d) => `${d.format} (${d.fileFormat})` },
    { key: 'rows', header: 'Usable rows', className: 'numeric', render: (d) => d.examples.toLocaleString('en-US') },
    { key: 'bad', header: 'Bad rows', className: 'numeric', render: (d) => (d.badRows > 0 ? <span className="text-warning">{d.badRows}</span> : '0') },
    { key: 'created', header: 'Imported', className: 'cell-nowrap', render: (d) => formatDateTime(d.createdAt) },
    {
      key: 'actions',
      header: <span className="visually-hidden">Actions</span>,
      className: 'cell-actions',
      render: (d) => (
        <span className="row-actions">
          <a className="btn btn-secondary btn-sm" href={routeHref('datasets', d.id)}>
            Preview
          </a>
          <Button size="sm" variant="ghost" icon="trash" aria-label={`Forget ${d.name}`} title="Forget this dataset (the file stays)" onClick={() => void remove(d)} />
        </span>
      ),
    },
  ];

  return (
    <div className="stack">
      <Card title="Import a dataset">
        <form className="stack" onSubmit={(e) => (e.preventDefault(), void start())}>
          <div className="field-row">
            <TextField label="Dataset file" value={path} onChange={(e) => setPath(e.target.value)} placeholder="/home/me/data/answers.jsonl" hint="Full path of a JSONL, JSON, CSV/TSV or Parquet file on the machine running the studio." error={error} spellCheck={false} />
            <BrowseButton kind="file" title="Choose a dataset file" extensions={['jsonl', 'json', 'csv', 'tsv', 'parquet']} onPick={setPath} onError={setError} />
            <Button type="submit" variant="primary" disabled={path.trim() === '' || running}>
              Import
            </Button>
          </div>
          <div className="choice-row" role="radiogroup" aria-label="Bad rows">
            <label className="choice">
              <input type="radio" name="on-problem" checked={onProblem === 'skip'} onChange={() => setOnProblem('skip')} />
              <span>
                <span className="choice-title">Skip bad rows</span>
                <span className="choice-text">Import the usable rows; every bad one is listed with its line and field.</span>
              </span>
            </label>
            <label className="choice">
              <input type="radio" name="on-problem" checked={onProblem === 'stop'} onChange={() => setOnProblem('stop')} />
              <span>
                <span className="choice-title">Stop at the first bad row</span>
                <span className="choice-text">Nothing is imported until the file is clean.</span>
              </span>
            </label>
          </div>
        </form>
        <JobProgress job={importing.job} running={running} onCancel={importing.cancel} label="Import progress" pending="reading…" failedTitle="The import failed" />
      </Card>
      <Card title="Datasets" flush>
        <QueryView state={datasets.state} loadingLabel="Loading datasets…" errorTitle="Could not load the datasets" onRetry={datasets.reload}>
          {(list) =>
            list.length === 0 ? (
              <EmptyState icon="table" title={`No datasets in “${project.name}” yet`} points={WILL}>
                Import a file above to check it and preview it as training text.
              </EmptyState>
            ) : (
              <Table caption="Datasets" columns={columns} rows={list} rowKey={(d) => d.id} />
            )
          }
        </QueryView>
      </Card>
    </div>
  );
}

function DatasetDetail({ id }: { id: string }) {
  const models = useQuery('models.list', {});
  const [modelId, setModelId] = useState<string>('');
  const [maxLength, setMaxLength] = useState('1024');
  const [offset, setOffset] = useState(0);
  const [selected, setSelected] = useState(0);
  const model = models.state.status === 'ready' ? (models.state.data.find((m) => m.id === modelId) ?? models.state.data[0] ?? null) : null;
  const length = Number(maxLength);
  const lengthOk = Number.isInteger(length) && length > 0 && length <= 131072;
  const preview = useQuery('datasets.preview', {
    id,
    offset,
    rows: PAGE_SIZE,
    ...(model ? { model: model.path } : {}),
    ...(lengthOk ? { maxLength: length } : {}),
  });

  return (
    <div className="stack">
      <a className="back-link" href={routeHref('datasets')}>
        ← All datasets
      </a>
      <QueryView state={preview.state} loadingLabel="Reading and rendering the dataset…" errorTitle="Could not preview the dataset" onRetry={preview.reload}>
        {(data) => {
          const d = data.dataset;
          const row = data.rows[Math.min(selected, data.rows.length - 1)];
          return (
            <>
              <Card title={d.name}>
                <div className="stack">
                  <dl className="summary-grid">
                    <div>
                      <dt>Usable rows</dt>
                      <dd>{d.examples.toLocaleString('en-US')}</dd>
                    </div>
                    <div>
                      <dt>Bad rows</dt>
                      <dd>{d.badRows}</dd>
                    </div>
                    <div>
                      <dt>Duplicates</dt>
                      <dd>{d.duplicateRows}</dd>
                    </div>
                    <div>
                      <dt>Format</dt>
                      <dd>{d.format}</dd>
                    </div>
                  </dl>
                  <dl className="kv">
                    <dt>File</dt>
                    <dd>{d.path}</dd>
                    <dt>Columns</dt>
                    <dd>{d.mappingReason}</dd>
                    <dt>Content hash</dt>
                    <dd>
                      <code>{d.hash}</code>
                    </dd>
                    {d.split ? (
                      <>
                        <dt>Split</dt>
                        <dd>
                          {d.split.train} train / {d.split.eval} eval (ratio {d.split.ratio}, seed {d.split.seed})
                        </dd>
                      </>
                    ) : null}
                  </dl>
                  <div className="field-row">
                    <div className="field select-field">
                      <label className="field-label" htmlFor="preview-model">
                        Render with the tokenizer of
                      </label>
                      <select id="preview-model" value={model?.id ?? ''} onChange={(e) => setModelId(e.target.value)} disabled={models.state.status !== 'ready' || models.state.data.length === 0}>
                        {models.state.status === 'ready' && models.state.data.length === 0 ? <option value="">No base model yet — open one in New fine-tune</option> : null}
                        {models.state.status === 'ready'
                          ? models.state.data.map((m) => (
                              <option key={m.id} value={m.id}>
                                {m.name} ({m.architecture})
                              </option>
                            ))
                          : null}
                      </select>
                    </div>
                    <TextField label="Max length (tokens)" value={maxLength} onChange={(e) => setMaxLength(e.target.value)} error={lengthOk ? null : 'A whole number of tokens between 1 and 131072.'} inputMode="numeric" />
                  </div>
                </div>
              </Card>
              {data.stats ? <TokenizationWarning stats={data.stats} examples={d.examples} /> : null}
              {data.stats ? (
                <Card title="Token lengths">
                  <LengthHistogram stats={data.stats} />
                </Card>
              ) : null}
              <div className="preview-layout">
                <Card title="Rows" flush>
                  <div className="stack">
                    <div className="table-wrap">
                      <table className="table">
                        <caption className="visually-hidden">Dataset rows</caption>
                        <thead>
                          <tr>
                            <th scope="col">Row</th>
                            <th scope="col">Content</th>
                            <th scope="col" className="numeric">
                              Tokens
                            </th>
                          </tr>
                        </thead>
                        <tbody>
                          {data.rows.map((r, i) => (
                            <tr key={r.row} aria-selected={i === selected}>
                              <td>
                                <Button size="sm" variant={i === selected ? 'primary' : 'ghost'} onClick={() => setSelected(i)} aria-label={`Show row ${r.row} as training text`}>
                                  {r.line !== undefined ? `line ${r.line}` : `row ${r.row}`}
                                </Button>
                              </td>
                              <td className="row-cell">{summarize(r.columns)}</td>
                              <td className="numeric">{r.rendered ? `${r.rendered.tokens}${r.rendered.truncated ? ' (cut)' : ''}` : '—'}</td>
                            </tr>
                          ))}
                        </tbody>
                      </table>
                    </div>
                    <div className="pager">
                      <span>
                        Rows {data.total === 0 ? 0 : offset + 1}–{Math.min(offset + PAGE_SIZE, data.total)} of {data.total}
                      </span>
                      <Button size="sm" disabled={offset === 0} onClick={() => (setOffset(Math.max(0, offset - PAGE_SIZE)), setSelected(0))}>
                        Previous page
                      </Button>
                      <Button size="sm" disabled={offset + PAGE_SIZE >= data.total} onClick={() => (setOffset(offset + PAGE_SIZE), setSelected(0))}>
                        Next page
                      </Button>
                    </div>
                  </div>
                </Card>
                <Card title={row ? `Training text of ${row.line !== undefined ? `line ${row.line}` : `row ${row.row}`}` : 'Training text'}>
                  {row ? <TokenView row={row} label="Rendered training text" /> : <p className="muted">No rows.</p>}
                  {data.template?.source ? (
                    <details className="config-details">
                      <summary>Template used ({data.template.kind})</summary>
                      <pre className="config-json">{data.template.source}</pre>
                    </details>
                  ) : null}
                </Card>
              </div>
              <Card title="Problems found at import">
                <ProblemList problems={d.problems} total={d.badRows} problemCount={d.problemCount} />
              </Card>
              <Card title={t('datasets.duplicates')}>
                <DuplicateList dataset={d} />
              </Card>
            </>
          );
        }}
      </QueryView>
    </div>
  );
}

function summarize(columns: Record<string, string>): string {
  const text = Object.entries(columns)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n');
  return text.length > 240 ? `${text.slice(0, 240)}…` : text;
}
