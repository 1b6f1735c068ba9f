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
import { LengthHistogram, ProblemList, rowName, TokenView } from './wizard/preview-parts.tsx';
import { DuplicateList, TokenizationWarning } from './dataset-report.tsx';
import { formatNumber, t } from '../i18n/t.ts';
import { sayPhrase } from '../i18n/phrase.ts';
import { JobProgress } from './wizard/JobProgress.tsx';
import { useJob } from './wizard/useJob.ts';
import { BrowseButton } from './wizard/BrowseButton.tsx';
import './wizard/wizard.css';

const will = () => [t('datasets.will1'), t('datasets.will2'), t('datasets.will3')];

const PAGE_SIZE = 10;

export function DatasetsPage() {
  const { params } = useLocation();
  return (
    <>
      <PageHeader title={t('nav.datasets')} description={t('datasets.description')} />
      <ProjectGate pageTitle={t('nav.datasets')} icon="table" will={will()}>
        {(project) =>
          params[0] ? (
            <DatasetDetail key={params[0]} id={params[0]} />
          ) : (
            <DatasetList key={project.id} project={project} />
          )
        }
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
    { key: 'name', header: t('datasets.dataset'), render: (d) => <a href={routeHref('datasets', d.id)}>{d.name}</a> },
    { key: 'format', header: t('datasets.format'), render: (d) => `${d.format} (${d.fileFormat})` },
    { key: 'rows', header: t('datasets.usableRows'), className: 'numeric', render: (d) => formatNumber(d.examples) },
    {
      key: 'bad',
      header: t('datasets.badRows'),
      className: 'numeric',
      render: (d) => (d.badRows > 0 ? <span className="text-warning">{d.badRows}</span> : '0'),
    },
    {
      key: 'created',
      header: t('datasets.imported'),
      className: 'cell-nowrap',
      render: (d) => formatDateTime(d.createdAt),
    },
    {
      key: 'actions',
      header: <span className="visually-hidden">{t('common.actions')}</span>,
      className: 'cell-actions',
      render: (d) => (
        <span className="row-actions">
          <a className="btn btn-secondary btn-sm" href={routeHref('datasets', d.id)}>
            {t('datasets.preview')}
          </a>
          <Button
            size="sm"
            variant="ghost"
            icon="trash"
            aria-label={t('datasets.forgetLabel', { name: d.name })}
            title={t('datasets.forgetTitle')}
            onClick={() => void remove(d)}
          />
        </span>
      ),
    },
  ];

  return (
    <div className="stack">
      <Card title={t('datasets.importTitle')}>
        <form className="stack" onSubmit={(e) => (e.preventDefault(), void start())}>
          <div className="field-row">
            <TextField
              label={t('datasets.file')}
              value={path}
              onChange={(e) => setPath(e.target.value)}
              placeholder="/home/me/data/answers.jsonl"
              hint={t('datasets.fileHint')}
              error={error}
              spellCheck={false}
            />
            <BrowseButton
              kind="file"
              title={t('datasets.chooseFile')}
              extensions={['jsonl', 'json', 'csv', 'tsv', 'parquet']}
              onPick={setPath}
              onError={setError}
            />
            <Button type="submit" variant="primary" disabled={path.trim() === '' || running}>
              {t('datasets.import')}
            </Button>
          </div>
          <div className="choice-row" role="radiogroup" aria-label={t('datasets.badRows')}>
            <label className="choice">
              <input
                type="radio"
                name="on-problem"
                checked={onProblem === 'skip'}
                onChange={() => setOnProblem('skip')}
              />
              <span>
                <span className="choice-title">{t('datasets.skipBad')}</span>
                <span className="choice-text">{t('datasets.skipBadText')}</span>
              </span>
            </label>
            <label className="choice">
              <input
                type="radio"
                name="on-problem"
                checked={onProblem === 'stop'}
                onChange={() => setOnProblem('stop')}
              />
              <span>
                <span className="choice-title">{t('datasets.stopBad')}</span>
                <span className="choice-text">{t('datasets.stopBadText')}</span>
              </span>
            </label>
          </div>
        </form>
        <JobProgress
          job={importing.job}
          running={running}
          onCancel={importing.cancel}
          label={t('datasets.importProgress')}
          pending={t('datasets.reading')}
          failedTitle={t('datasets.importFailed')}
        />
      </Card>
      <Card title={t('nav.datasets')} flush>
        <QueryView
          state={datasets.state}
          loadingLabel={t('datasets.loading')}
          errorTitle={t('datasets.loadFailed')}
          onRetry={datasets.reload}
        >
          {(list) =>
            list.length === 0 ? (
              <EmptyState icon="table" title={t('datasets.none', { project: project.name })} points={will()}>
                {t('datasets.noneBody')}
              </EmptyState>
            ) : (
              <Table caption={t('nav.datasets')} columns={columns} rows={list} rowKey={(d) => d.id} />
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
  const model =
    models.state.status === 'ready'
      ? (models.state.data.find((m) => m.id === modelId) ?? models.state.data[0] ?? null)
      : null;
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
        {t('datasets.back')}
      </a>
      <QueryView
        state={preview.state}
        loadingLabel={t('datasets.rendering')}
        errorTitle={t('datasets.previewFailed')}
        onRetry={preview.reload}
      >
        {(data) => {
          const d = data.dataset;
          const row = data.rows[Math.min(selected, data.rows.length - 1)];
          return (
            <>
              <Card title={d.name}>
                <div className="stack">
                  <dl className="summary-grid">
                    <div>
                      <dt>{t('datasets.usableRows')}</dt>
                      <dd>{formatNumber(d.examples)}</dd>
                    </div>
                    <div>
                      <dt>{t('datasets.badRows')}</dt>
                      <dd>{formatNumber(d.badRows)}</dd>
                    </div>
                    <div>
                      <dt>{t('datasets.duplicatesShort')}</dt>
                      <dd>{d.duplicateRows}</dd>
                    </div>
                    <div>
                      <dt>{t('datasets.format')}</dt>
                      <dd>{d.format}</dd>
                    </div>
                  </dl>
                  <dl className="kv">
                    <dt>{t('datasets.fileShort')}</dt>
                    <dd>{d.path}</dd>
                    <dt>{t('datasets.columns')}</dt>
                    <dd>{sayPhrase(d.mappingReasonPhrase, d.mappingReason)}</dd>
                    <dt>{t('datasets.hash')}</dt>
                    <dd>
                      <code>{d.hash}</code>
                    </dd>
                    {d.split ? (
                      <>
                        <dt>{t('datasets.split')}</dt>
                        <dd>{t('datasets.splitValue', d.split)}</dd>
                      </>
                    ) : null}
                  </dl>
                  <div className="field-row">
                    <div className="field select-field">
                      <label className="field-label" htmlFor="preview-model">
                        {t('datasets.renderWith')}
                      </label>
                      <select
                        id="preview-model"
                        value={model?.id ?? ''}
                        onChange={(e) => setModelId(e.target.value)}
                        disabled={models.state.status !== 'ready' || models.state.data.length === 0}
                      >
                        {models.state.status === 'ready' && models.state.data.length === 0 ? (
                          <option value="">{t('datasets.noModel')}</option>
                        ) : null}
                        {models.state.status === 'ready'
                          ? models.state.data.map((m) => (
                              <option key={m.id} value={m.id}>
                                {m.name} ({m.architecture})
                              </option>
                            ))
                          : null}
                      </select>
                    </div>
                    <TextField
                      label={t('datasets.maxLength')}
                      value={maxLength}
                      onChange={(e) => setMaxLength(e.target.value)}
                      error={lengthOk ? null : t('datasets.maxLengthError')}
                      inputMode="numeric"
                    />
                  </div>
                </div>
              </Card>
              {data.stats ? <TokenizationWarning stats={data.stats} examples={d.examples} /> : null}
              {data.stats ? (
                <Card title={t('datasets.tokenLengths')}>
                  <LengthHistogram stats={data.stats} />
                </Card>
              ) : null}
              <div className="preview-layout">
                <Card title={t('datasets.rows')} flush>
                  <div className="stack">
                    <div className="table-wrap">
                      <table className="table">
                        <caption className="visually-hidden">{t('datasets.rowsCaption')}</caption>
                        <thead>
                          <tr>
                            <th scope="col">{t('datasets.rowHeader')}</th>
                            <th scope="col">{t('datasets.content')}</th>
                            <th scope="col" className="numeric">
                              {t('datasets.tokens')}
                            </th>
                          </tr>
                        </thead>
                        <tbody>
                          {data.rows.map((r, i) => (
                            <tr key={r.row} aria-selected={i === selected}>
                              <td>
                                <Button
                                  size="sm"
                                  variant={i === selected ? 'primary' : 'ghost'}
                                  onClick={() => setSelected(i)}
                                  aria-label={t('datasets.showRow', { row: r.row })}
                                >
                                  {rowName(r)}
                                </Button>
                              </td>
                              <td className="row-cell">{summarize(r.columns)}</td>
                              <td className="numeric">
                                {r.rendered
                                  ? `${formatNumber(r.rendered.tokens)}${r.rendered.truncated ? t('datasets.cutMark') : ''}`
                                  : '—'}
                              </td>
                            </tr>
                          ))}
                        </tbody>
                      </table>
                    </div>
                    <div className="pager">
                      <span>
                        {t('datasets.pageOf', {
                          from: data.total === 0 ? 0 : offset + 1,
                          to: Math.min(offset + PAGE_SIZE, data.total),
                          total: data.total,
                        })}
                      </span>
                      <Button
                        size="sm"
                        disabled={offset === 0}
                        onClick={() => (setOffset(Math.max(0, offset - PAGE_SIZE)), setSelected(0))}
                      >
                        {t('datasets.previousPage')}
                      </Button>
                      <Button
                        size="sm"
                        disabled={offset + PAGE_SIZE >= data.total}
                        onClick={() => (setOffset(offset + PAGE_SIZE), setSelected(0))}
                      >
                        {t('datasets.nextPage')}
                      </Button>
                    </div>
                  </div>
                </Card>
                <Card title={row ? t('datasets.trainingTextOf', { row: rowName(row) }) : t('datasets.trainingText')}>
                  {row ? (
                    <TokenView row={row} label={t('datasets.renderedText')} />
                  ) : (
                    <p className="muted">{t('datasets.noRows')}</p>
                  )}
                  {data.template?.source ? (
                    <details className="config-details">
                      <summary>{t('datasets.templateUsed', { kind: data.template.kind })}</summary>
                      <pre className="config-json">{data.template.source}</pre>
                    </details>
                  ) : null}
                </Card>
              </div>
              <Card title={t('datasets.problemsList')}>
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
