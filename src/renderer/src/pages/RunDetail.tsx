// One run: status and progress, headline numbers, live charts of loss, learning rate and gradient norm,
// and its full config. Live from job events: metric points arrive as the worker logs them. Loaded on
// demand (React.lazy in RunsPage), so the charting library is not part of the first page load.
import { useEffect, useRef, useState } from 'react';
import type { Run } from '../../../common/api/runs.ts';
import { useEvent, useQuery } from '../api/hooks.ts';
import { Banner, Card, PageHeader, ProgressBar, QueryView, StatusBadge } from '../components/index.ts';
import { MetricChart } from '../components/MetricChart.tsx';
import { formatBytes, formatDateTime, formatDuration, formatMetric } from '../format.ts';
import { hasMetric, lastValue, mergeMetricPoints, type MetricPoint, type StepValues } from '../metrics.ts';
import { routeHref } from '../routes.ts';
import { useLocation } from '../state/location.ts';
import { RunActions } from './RunActions.tsx';
import { FusionReportCard } from './FusionReportCard.tsx';
import { TaskFacts, TaskMetricsCard, taskStats } from './TaskRunPanel.tsx';
import { isTaskRun } from '../../../common/api/task-runs.ts';
import { describeRun, runSeconds } from './run-labels.ts';
import { ImportedRunPanel, RunElsewhereButton } from './RunElsewhere.tsx';
import { sayPhrase } from '../i18n/phrase.ts';
import { formatNumber, t } from '../i18n/t.ts';

export function RunDetail({ runId }: { runId: string }) {
  // On a hash change the Runs page may render once more with the next page's parameters before it is replaced
  // (#/evaluate/run/<id> would ask for a run called "run"): only the Runs page's own address is a run id.
  if (useLocation().route !== 'runs') return null;
  return <RunDetailOf runId={runId} />;
}

function RunDetailOf({ runId }: { runId: string }) {
  const run = useQuery('runs.get', { id: runId });
  return (
    <>
      <a className="back-link" href={routeHref('runs')}>
        {t('run.allRuns')}
      </a>
      <QueryView state={run.state} loadingLabel={t('runs.loadingRun')} errorTitle={t('run.loadFailed')} onRetry={run.reload}>
        {(data) => <RunView run={data} reload={run.reload} />}
      </QueryView>
    </>
  );
}

interface LiveProgress {
  progress: number | null;
  message: string | null;
  etaSeconds: number | null;
}

function RunView({ run, reload }: { run: Run; reload: () => void }) {
  const history = useQuery('runs.metrics', { id: run.id });
  const [points, setPoints] = useState<MetricPoint[]>([]);
  const [live, setLive] = useState<LiveProgress | null>(null);

  // The stored history arrives once (and again after the run ends); live points may already be there.
  useEffect(() => {
    if (history.state.status === 'ready') setPoints((current) => mergeMetricPoints(current, history.state.status === 'ready' ? history.state.data : []));
  }, [history.state]);

  // A small model logs hundreds of steps a second: points and progress are gathered and drawn at most four times a
  // second, so the charts keep up and the page stays usable.
  const incoming = useRef<{ points: StepValues[]; live: LiveProgress | null; timer: ReturnType<typeof setTimeout> | null }>({ points: [], live: null, timer: null });
  const flushSoon = () => {
    if (incoming.current.timer !== null) return;
    incoming.current.timer = setTimeout(() => {
      const { points: batch, live: latest } = incoming.current;
      incoming.current = { points: [], live: null, timer: null };
      if (batch.length > 0) setPoints((current) => mergeMetricPoints(current, batch));
      if (latest) setLive(latest);
    }, 250);
  };
  useEffect(() => () => clearTimeout(incoming.current.timer ?? undefined), []);
  useEvent('job.metric', (event) => {
    if (event.jobId !== run.jobId) return;
    incoming.current.points.push({ step: event.step, values: event.values });
    flushSoon();
  });
  useEvent('job.progress', (event) => {
    if (event.jobId !== run.jobId) return;
    // the job's line in the UI's language (its phrase), not the core's English text
    incoming.current.live = { progress: event.progress, message: event.message === null ? null : sayPhrase(event.phrase, event.message), etaSeconds: event.etaSeconds ?? null };
    flushSoon();
  });
  useEvent('job.status', (job) => {
    if (job.id === run.jobId) {
      reload();
      history.reload();
    }
  });

  const active = run.status === 'running' || run.status === 'queued';
  const summary = run.summary;
  const tokensPerSecond = lastValue(points, 'tokens_per_second');
  // Encoder tasks (classification / QA) are judged by their task's figures, not perplexity; no chat or bundle.
  const taskRun = isTaskRun(run);
  const lossCard = (
    <Card title={t('run.loss')}>
      <QueryView state={history.state} loadingLabel={t('run.loadingMetrics')} errorTitle={t('compare.metricsFailed')} onRetry={history.reload}>
        {() =>
          hasMetric(points, 'loss') ? (
            <MetricChart
              label={t('run.lossChart')}
              points={points}
              series={[
                { key: 'loss', label: t('compare.trainLoss') },
                ...(hasMetric(points, 'eval_loss') ? [{ key: 'eval_loss', label: t('compare.evalLoss') }] : []),
              ]}
            />
          ) : (
            <p className="muted">{active ? t('run.firstLoss') : t('run.noLoss')}</p>
          )
        }
      </QueryView>
    </Card>
  );

  return (
    <>
      <PageHeader
        title={run.name}
        description={describeRun(run)}
        actions={
          <>
            <RunActions run={run} reload={reload} />
            {taskRun ? null : <RunElsewhereButton run={run} />}
          </>
        }
      />
      {run.status === 'failed' && run.error ? <Banner title={t('run.failed')}>{run.error}</Banner> : null}

      <Card>
        <div className="run-status-row">
          <StatusBadge status={run.status} />
          <div className="run-status-progress">
            {active ? (
              <ProgressBar value={live?.progress ?? (summary ? summary.steps / Math.max(1, summary.totalSteps) : null)} label={t('run.progress')} />
            ) : null}
            <span className="muted">
              {[
                summary ? t('runs.steps', { steps: summary.steps, total: summary.totalSteps }) : null,
                active && live?.message ? live.message : null,
                active && live?.etaSeconds != null ? t('run.left', { left: formatDuration(live.etaSeconds) }) : null,
                tokensPerSecond !== null ? t('run.tokensPerSecond', { rate: Math.round(tokensPerSecond) }) : null,
                run.startedAt
                  ? t(active ? 'run.runningFor' : 'run.took', { time: formatDuration(runSeconds(run) ?? 0) })
                  : t('run.notStartedYet'),
              ]
                .filter(Boolean)
                .join(' · ')}
            </span>
          </div>
        </div>
        <dl className="stat-grid">
          <Stat label={t('compare.trainLoss')} value={formatMetric(summary?.trainLoss ?? lastValue(points, 'loss'))} />
          <Stat label={t('compare.evalLoss')} value={formatMetric(summary?.evalLoss ?? lastValue(points, 'eval_loss'))} />
          {taskRun ? (
            taskStats(run, points).map((stat) => <Stat key={stat.label} label={stat.label} value={stat.value} />)
          ) : (
            <Stat label={t('run.evalPerplexity')} value={formatMetric(summary?.evalPerplexity ?? lastValue(points, 'eval_perplexity'))} />
          )}
          {/* While training, the newest point carries these; the summary has the final figures. */}
          <Stat label={t('run.trainableParameters')} value={wholeNumber(summary?.trainableParameters ?? lastValue(points, 'trainable_parameters'))} />
          <Stat label={t('run.trainedTokens')} value={wholeNumber(summary?.trainedTokens ?? lastValue(points, 'trained_tokens'))} />
          <Stat label={t('compare.peakMemory')} value={formatBytesOrDash(summary?.peakRssBytes ?? lastValue(points, 'peak_rss_bytes'))} />
        </dl>
      </Card>

      {taskRun ? (
        <div className="chart-grid">
          {lossCard}
          <TaskMetricsCard run={run} points={points} active={active} />
        </div>
      ) : (
        lossCard
      )}

      <ImportedRunPanel runId={run.id} />

      {hasMetric(points, 'lr') || hasMetric(points, 'grad_norm') ? (
        <div className="chart-grid">
          {hasMetric(points, 'lr') ? (
            <Card title={t('run.learningRate')}>
              <MetricChart label={t('run.learningRateChart')} points={points} series={[{ key: 'lr', label: t('run.learningRate') }]} height={180} />
            </Card>
          ) : null}
          {hasMetric(points, 'grad_norm') ? (
            <Card title={t('run.gradNorm')}>
              <MetricChart label={t('run.gradNormChart')} points={points} series={[{ key: 'grad_norm', label: t('run.gradNorm') }]} height={180} />
            </Card>
          ) : null}
        </div>
      ) : null}

      {run.config.fusion && run.status === 'succeeded' ? <FusionReportCard run={run} /> : null}

      {run.jobId ? <LogTail key={run.jobId} jobId={run.jobId} /> : null}

      <Card title={t('run.details')}>
        <dl className="kv">
          <dt>{t('chat.baseModel')}</dt>
          <dd>
            <code>{run.config.model}</code>
          </dd>
          <dt>{t('datasets.dataset')}</dt>
          <dd>
            <code>{run.config.dataset.path}</code>
          </dd>
          {summary?.adapterPath ? (
            <>
              <dt>{t('exports.adapter')}</dt>
              <dd>
                <code>{summary.adapterPath}</code>
              </dd>
            </>
          ) : null}
          {taskRun ? <TaskFacts run={run} /> : null}
          <dt>{t('projects.created')}</dt>
          <dd>{formatDateTime(run.createdAt)}</dd>
          <dt>{t('run.seed')}</dt>
          <dd>{run.seed}</dd>
        </dl>
        <details className="config-details">
          <summary>{t('run.fullConfig')}</summary>
          <pre className="config-json">{JSON.stringify(run.config, null, 2)}</pre>
        </details>
      </Card>
    </>
  );
}

function wholeNumber(value: number | null | undefined): string {
  return value != null ? formatNumber(Math.round(value)) : '—';
}

function formatBytesOrDash(value: number | null | undefined): string {
  return value != null ? formatBytes(value) : '—';
}

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div className="stat">
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}

const LOG_LINES = 200;
type LogLine = { at: string; level: 'debug' | 'info' | 'warn' | 'error'; line: string };

/** The job's last log lines: what the log file holds when the page opens, then each job.log event as it comes. */
function LogTail({ jobId }: { jobId: string }) {
  const stored = useQuery('jobs.logTail', { id: jobId, lines: LOG_LINES });
  const [lines, setLines] = useState<LogLine[]>([]);
  const view = useRef<HTMLPreElement>(null);
  const append = (incoming: LogLine[]) =>
    setLines((current) => {
      // The file and the live events overlap around the moment the page loaded: keep each line once.
      const seen = new Set(current.map((entry) => `${entry.at} ${entry.level} ${entry.line}`));
      const added = incoming.filter((entry) => !seen.has(`${entry.at} ${entry.level} ${entry.line}`));
      return added.length === 0 ? current : [...current, ...added].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0)).slice(-LOG_LINES);
    });
  useEffect(() => {
    if (stored.state.status === 'ready') append(stored.state.data);
  }, [stored.state]);
  useEvent('job.log', (event) => {
    if (event.jobId === jobId) append([{ at: event.at, level: event.level, line: event.line }]);
  });
  useEffect(() => {
    // Follow the newest line, as a terminal would.
    if (view.current) view.current.scrollTop = view.current.scrollHeight;
  }, [lines]);

  return (
    <Card title={t('run.log')}>
      {stored.state.status === 'error' ? (
        <Banner title={t('run.logFailed')}>{stored.state.error.message}</Banner>
      ) : lines.length === 0 ? (
        <p className="muted">{stored.state.status === 'loading' ? t('run.loadingLog') : t('run.nothingLogged')}</p>
      ) : (
        <pre ref={view} className="config-json log-tail" aria-label={t('run.lastLogLines')} tabIndex={0} style={{ maxHeight: 260, overflow: 'auto' }}>
          {lines.map((entry) => `${entry.at.slice(11, 19)} ${entry.level === 'info' ? '' : `${entry.level.toUpperCase()} `}${entry.line}`).join('\n')}
        </pre>
      )}
    </Card>
  );
}
