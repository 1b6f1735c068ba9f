// Evaluations of the current project: perplexity of the base model and of base + adapter on held-out
// rows. Live like the Runs page: an evaluation started anywhere appears and completes without a reload.
import type { Project } from '../../../common/api/projects.ts';
import { lazy, Suspense, useState } from 'react';
import { SHIP_COST_WARNING_SHARE, shipCost, type Evaluation, type EvaluationExampleRow } from '../../../common/api/runs.ts';
import { useEvent, useQuery } from '../api/hooks.ts';
import {
  Button,
  Card,
  EmptyState,
  PageHeader,
  QueryView,
  Spinner,
  StatusBadge,
  Table,
  type Column,
} from '../components/index.ts';
import { basename, formatChange, formatDateTime, formatMetric, perplexityChange } from '../format.ts';
import { chatHref } from './ChatLinks.ts';
import { EvaluationStart } from './EvaluationStart.tsx';
import { ProjectGate } from './ProjectGate.tsx';
import { parseLocation } from '../routes.ts';
import { useHash } from '../state/location.ts';
import { t } from '../i18n/t.ts';
import { FusionEvaluation } from './FusionEvaluation.tsx';
import type { EncoderTask } from '../../../common/api/task-runs.ts';

// recharts is loaded only when an evaluation's examples are shown.
const EvaluationChart = lazy(() =>
  import('./EvaluationChart.tsx').then((module) => ({ default: module.EvaluationChart })),
);

const will = () => [t('evaluate.will1'), t('evaluate.will2')];

/** The page's intro says what will be measured: perplexity (lower is better), or an encoder task's own figures. */
function description(task: EncoderTask | null): string {
  if (task === 'classification') return t('evaluate.descriptionClassification');
  if (task === 'question-answering') return t('evaluate.descriptionQa');
  return t('evaluate.description');
}

export function EvaluatePage() {
  // `#/evaluate/run/<run id>` (a run page's Evaluate action) picks that run in the start form.
  const { params } = parseLocation(useHash());
  const initialRunId = params[0] === 'run' && params[1] ? params[1] : null;
  // the start form's choice: a classification / QA run is measured by its task's metrics, not perplexity
  const [task, setTask] = useState<EncoderTask | null>(null);
  return (
    <>
      <PageHeader title={t('nav.evaluate')} description={description(task)} />
      <ProjectGate pageTitle={t('nav.evaluate')} icon="gauge" will={will()}>
        {(project) => (
          <EvaluationList key={project.id} project={project} initialRunId={initialRunId} onMeasure={setTask} />
        )}
      </ProjectGate>
    </>
  );
}

function EvaluationList({
  project,
  initialRunId,
  onMeasure,
}: {
  project: Project;
  initialRunId: string | null;
  onMeasure: (task: EncoderTask | null) => void;
}) {
  const evaluations = useQuery('evaluations.list', { projectId: project.id });
  // Run names, so an evaluation of a run is called by its run's name rather than its adapter folder.
  const runs = useQuery('runs.list', { projectId: project.id });
  const runNames = new Map(runs.state.status === 'ready' ? runs.state.data.map((run) => [run.id, run.name]) : []);
  const listed = evaluations.state.status === 'ready' ? evaluations.state.data : [];
  useEvent('job.status', (job) => {
    if (job.projectId === project.id || listed.some((evaluation) => evaluation.jobId === job.id)) {
      evaluations.reload();
      runs.reload();
    }
  });

  const columns: Column<Evaluation>[] = [
    {
      key: 'what',
      header: t('evaluate.evaluated'),
      render: (evaluation) => (
        <div className="project-cell">
          <span className="project-name">
            {(evaluation.runId ? runNames.get(evaluation.runId) : undefined) ??
              (evaluation.adapterPath ? basename(evaluation.adapterPath) : basename(evaluation.model))}
          </span>
          <span className="project-description">
            {evaluation.adapterPath ? t('evaluate.adapterOn', { model: basename(evaluation.model) }) : t('evaluate.baseOnly')}
            {evaluation.examples > 0 ? t('evaluate.counts', { examples: evaluation.examples, tokens: evaluation.tokens }) : ''}
          </span>
          {evaluation.status === 'failed' && evaluation.error ? (
            <span className="run-error">{evaluation.error}</span>
          ) : null}
        </div>
      ),
    },
    {
      key: 'status',
      header: t('exports.status'),
      className: 'cell-nowrap',
      render: (evaluation) => <StatusBadge status={evaluation.status} />,
    },
    {
      key: 'base',
      header: t('evaluate.basePerplexity'),
      className: 'numeric cell-nowrap',
      render: (evaluation) => formatMetric(evaluation.basePerplexity),
    },
    {
      key: 'tuned',
      header: t('evaluate.tunedPerplexity'),
      className: 'numeric cell-nowrap',
      render: (evaluation) => formatMetric(evaluation.adapterPerplexity),
    },
    ...(listed.some((evaluation) => evaluation.ship !== null)
      ? [
          {
            key: 'ship',
            header: t('evaluate.shipPerplexity'),
            className: 'numeric cell-nowrap',
            render: (evaluation: Evaluation) => <ShippedCell evaluation={evaluation} />,
          },
        ]
      : []),
    {
      key: 'change',
      header: t('evaluate.change'),
      className: 'numeric cell-nowrap',
      render: (evaluation) => {
        return <ChangeText change={perplexityChange(evaluation)} />;
      },
    },
    {
      key: 'when',
      header: t('projects.created'),
      className: 'cell-nowrap muted',
      render: (evaluation) => formatDateTime(evaluation.createdAt),
    },
    {
      key: 'examples',
      header: <span className="visually-hidden">{t('evaluate.examples')}</span>,
      className: 'cell-nowrap',
      render: (evaluation) =>
        evaluation.status === 'succeeded' && evaluation.examples > 0 ? (
          <Button size="sm" aria-pressed={shownId(listed) === evaluation.id} onClick={() => setShown(evaluation.id)}>
            {t('evaluate.examples')}
          </Button>
        ) : null,
    },
  ];
  const [shown, setShown] = useState<string | null>(null);
  // The chosen evaluation, or else the newest finished one with examples.
  function shownId(list: Evaluation[]): string | null {
    const finished = list.filter((evaluation) => evaluation.status === 'succeeded' && evaluation.examples > 0);
    return (finished.find((evaluation) => evaluation.id === shown) ?? finished[0])?.id ?? null;
  }

  return (
    <>
      <EvaluationStart
        project={project}
        initialRunId={initialRunId}
        onStarted={(id) => {
          setShown(id);
          evaluations.reload();
        }}
        onEnded={() => evaluations.reload()}
        onMeasure={onMeasure}
      />
      <FusionEvaluation project={project} />
      <QueryView
        state={evaluations.state}
        loadingLabel={t('evaluate.loading')}
        errorTitle={t('evaluate.loadFailed')}
        onRetry={evaluations.reload}
      >
        {(list) =>
          list.length === 0 ? (
            <Card>
              <EmptyState icon="gauge" title={t('evaluate.none', { project: project.name })} points={will()}>
                {t('evaluate.noneBody')}
                <code className="cli-hint">{'lora-studio eval --run <run id>'}</code>
              </EmptyState>
            </Card>
          ) : (
            <>
              <Card flush className="evaluations-card">
                <Table caption={t('evaluate.evaluations')} columns={columns} rows={list} rowKey={(evaluation) => evaluation.id} />
              </Card>
              {(() => {
                const evaluation = list.find((item) => item.id === shownId(list));
                return evaluation ? (
                  <ExampleTable
                    key={evaluation.id}
                    evaluation={evaluation}
                    title={runNames.get(evaluation.runId ?? '') ?? basename(evaluation.adapterPath ?? evaluation.model)}
                  />
                ) : null;
              })()}
            </>
          )
        }
      </QueryView>
    </>
  );
}

/** The exported GGUF's perplexity, and a warning when quantizing gives back too much of the fine-tune's gain. */
function ShippedCell({ evaluation }: { evaluation: Evaluation }) {
  if (evaluation.ship === null) return <>—</>;
  const quant = evaluation.ship.toUpperCase();
  const cost = shipCost(evaluation);
  return (
    <span className="ship-cell">
      {t('evaluate.shipValue', { value: formatMetric(evaluation.shipPerplexity), quant })}
      {cost !== null && cost > SHIP_COST_WARNING_SHARE ? (
        <span className="change-worse ship-warning" role="note" title={t('evaluate.shipWarningHint', { limit: SHIP_COST_WARNING_SHARE })}>
          {' ⚠ '}
          {t('evaluate.shipWarning', { quant, share: cost })}
        </span>
      ) : null}
    </span>
  );
}

function ChangeText({ change }: { change: number | null }) {
  if (change === null) return <>—</>;
  return <span className={change < 0 ? 'change-better' : 'change-worse'}>{formatChange(change)}</span>;
}

const PAGE_SIZE = 25;
const SORTS = {
  improved: { sort: 'change', order: 'asc' },
  worsened: { sort: 'change', order: 'desc' },
  hardest: { sort: 'adapterPerplexity', order: 'desc' },
  split: { sort: 'index', order: 'asc' },
} as const;
type SortChoice = keyof typeof SORTS;

/** One line of an example's text, for a table cell; the full text is in the cell's title. */
function shorten(text: string, max = 140): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * The text a Chat opened from an example starts with: the example as the model saw it, without the template's
 * special tokens (`<|begin_of_text|>`, `<s>`…), which Chat's own template adds again.
 */
function chatPromptOf(text: string): string {
  return text
    .replace(/<\|[^|<>\s]{1,40}\|>|<\/?s>/g, '')
    .trim()
    .slice(0, 2000);
}

/** Per-example perplexity before and after, a page at a time, each row opening in Chat with its text. */
function ExampleTable({ evaluation, title }: { evaluation: Evaluation; title: string }) {
  const [choice, setChoice] = useState<SortChoice>('improved');
  const [offset, setOffset] = useState(0);
  const { sort, order } = SORTS[choice];
  const page = useQuery('evaluations.examples', { id: evaluation.id, sort, order, offset, limit: PAGE_SIZE });
  const hasBase = evaluation.basePerplexity !== null;
  const hasTuned = evaluation.adapterPerplexity !== null;

  const columns: Column<EvaluationExampleRow>[] = [
    {
      key: 'index',
      header: '#',
      className: 'numeric cell-nowrap muted',
      render: (example) => String(example.index + 1),
    },
    {
      key: 'text',
      header: t('evaluate.example'),
      render: (example) => (
        <span className="example-text" title={example.text}>
          {shorten(example.text)}
        </span>
      ),
    },
    { key: 'tokens', header: t('datasets.tokens'), className: 'numeric cell-nowrap', render: (example) => String(example.tokens) },
    ...(hasBase
      ? [
          {
            key: 'base',
            header: t('evaluate.basePerplexity'),
            className: 'numeric cell-nowrap',
            render: (example: EvaluationExampleRow) => formatMetric(example.basePerplexity),
          },
        ]
      : []),
    ...(hasTuned
      ? [
          {
            key: 'tuned',
            header: t('evaluate.tunedPerplexity'),
            className: 'numeric cell-nowrap',
            render: (example: EvaluationExampleRow) => formatMetric(example.adapterPerplexity),
          },
        ]
      : []),
    ...(hasBase && hasTuned
      ? [
          {
            key: 'change',
            header: t('evaluate.change'),
            className: 'numeric cell-nowrap',
            render: (example: EvaluationExampleRow) => <ChangeText change={example.change} />,
          },
        ]
      : []),
    {
      key: 'chat',
      header: <span className="visually-hidden">{t('evaluate.openInChat')}</span>,
      className: 'cell-nowrap',
      render: (example) => (
        <a
          className="btn btn-secondary btn-sm"
          href={chatHref({ adapterOrRunId: evaluation.runId, prompt: chatPromptOf(example.text) })}
        >
          {t('evaluate.openInChat')}
        </a>
      ),
    },
  ];

  return (
    <Card title={t('evaluate.examplesOfQuoted', { title })}>
      <div className="form-grid">
        <div className="field" style={{ maxWidth: 520 }}>
          <label className="field-label" htmlFor="example-sort">
            {t('evaluate.sortExamples')}
          </label>
          <select
            id="example-sort"
            value={choice}
            onChange={(event) => {
              setChoice(event.target.value as SortChoice);
              setOffset(0);
            }}
          >
            {(Object.keys(SORTS) as SortChoice[]).map((key) => (
              <option key={key} value={key}>
                {t(`evaluate.sort.${key}`)}
              </option>
            ))}
          </select>
          <span className="field-hint">
            {t('evaluate.sortHint')}
          </span>
        </div>
      </div>
      <QueryView
        state={page.state}
        loadingLabel={t('evaluate.loadingExamples')}
        errorTitle={t('evaluate.examplesFailed')}
        onRetry={page.reload}
      >
        {(data) => (
          <>
            {hasBase && hasTuned && data.examples.length > 0 ? (
              <Suspense fallback={<Spinner label={t('evaluate.loadingChart')} />}>
                <EvaluationChart
                  examples={data.examples}
                  label={t('evaluate.chartLabel', { title })}
                />
              </Suspense>
            ) : null}
            <Table
              caption={t('evaluate.examplesOf', { title })}
              columns={columns}
              rows={data.examples}
              rowKey={(example) => String(example.index)}
            />
            <div className="row-actions" style={{ marginTop: 'var(--space-2)' }}>
              <Button size="sm" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE_SIZE))}>
                {t('evaluate.previous')}
              </Button>
              <span className="muted">
                {data.total === 0
                  ? t('evaluate.noExamples')
                  : t('evaluate.range', { from: offset + 1, to: Math.min(offset + PAGE_SIZE, data.total), total: data.total })}
              </span>
              <Button
                size="sm"
                disabled={offset + PAGE_SIZE >= data.total}
                onClick={() => setOffset(offset + PAGE_SIZE)}
              >
                {t('evaluate.next')}
              </Button>
            </div>
          </>
        )}
      </QueryView>
    </Card>
  );
}
