// The comparison itself: pick runs, overlay their training and evaluation loss by step, and a table of their
// final numbers. Metrics are read once per picked run and again whenever one of its jobs changes status.
import { useEffect, useState } from 'react';
import type { Project } from '../../../common/api/projects.ts';
import type { Run, RunMetric } from '../../../common/api/runs.ts';
import { toStudioApiError } from '../api/client.ts';
import { useEvent, useQuery } from '../api/hooks.ts';
import { Banner, Card, EmptyState, QueryView, Table, type Column } from '../components/index.ts';
import { MetricChart } from '../components/MetricChart.tsx';
import { formatBytes, formatMetric } from '../format.ts';
import { routeHref } from '../routes.ts';
import { useLocation } from '../state/location.ts';
import { useStudio } from '../state/studio.tsx';
import { compareWill, methodLabel, overlayPoints, shortDuration } from './CompareData.ts';
import { ComparisonGroups } from './CompareGroups.tsx';
import { runSeconds } from './run-labels.ts';
import './Adapters.css';
import { t } from '../i18n/t.ts';

export function CompareView({ project }: { project: Project }) {
  const client = useStudio();
  const runs = useQuery('runs.list', { projectId: project.id });
  const adapters = useQuery('adapters.list', { projectId: project.id });
  const [picked, setPicked] = useState<string[]>([]);
  const [metrics, setMetrics] = useState<Record<string, RunMetric[]>>({});
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  // #/compare/<group id>: a comparison group, its runs picked for the loss curves too
  const groupId = useLocation().params[0] ?? null;
  useEffect(() => {
    if (!groupId) return;
    let stale = false;
    client.invoke('compare.get', { id: groupId }).then(
      (report) => {
        if (!stale) setPicked(report.rows.map((r) => r.runId));
      },
      () => undefined, // the groups card says what went wrong
    );
    return () => {
      stale = true;
    };
  }, [client, groupId]);

  const list = runs.state.status === 'ready' ? runs.state.data : [];
  useEvent('job.status', (job) => {
    if (job.projectId !== project.id) return;
    runs.reload();
    adapters.reload();
    if (list.some((r) => r.jobId === job.id && picked.includes(r.id))) setVersion((v) => v + 1);
  });

  const pickedKey = picked.join(',');
  useEffect(() => {
    let stale = false;
    Promise.all(picked.map((id) => client.invoke('runs.metrics', { id }).then((points) => [id, points] as const))).then(
      (entries) => {
        if (!stale) setMetrics(Object.fromEntries(entries));
      },
      (err: unknown) => {
        if (!stale) setError(toStudioApiError(err).message);
      },
    );
    return () => {
      stale = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- picked is keyed by pickedKey
  }, [client, pickedKey, version]);

  const chosen = list.filter((r) => picked.includes(r.id));
  const chosenMetrics = chosen.map((r) => metrics[r.id] ?? []);
  const trainPoints = overlayPoints(chosenMetrics, 'loss', 'train');
  const evalPoints = overlayPoints(chosenMetrics, 'eval_loss', 'eval');
  const adapterSize = new Map(
    adapters.state.status === 'ready'
      ? adapters.state.data.filter((a) => a.runId).map((a) => [a.runId!, a.sizeBytes])
      : [],
  );

  const columns: Column<Run>[] = [
    {
      key: 'name',
      header: t('compare.run'),
      className: 'cell-nowrap',
      render: (r) => <a href={routeHref('runs', r.id)}>{r.name}</a>,
    },
    { key: 'method', header: t('compare.method'), className: 'cell-nowrap', render: methodLabel },
    {
      key: 'train',
      header: t('compare.trainLoss'),
      className: 'numeric cell-nowrap',
      render: (r) => formatMetric(r.summary?.trainLoss),
    },
    {
      key: 'eval',
      header: t('compare.evalLoss'),
      className: 'numeric cell-nowrap',
      render: (r) => formatMetric(r.summary?.evalLoss),
    },
    {
      key: 'ppl',
      header: t('compare.perplexity'),
      className: 'numeric cell-nowrap',
      render: (r) => formatMetric(r.summary?.evalPerplexity),
    },
    {
      key: 'time',
      header: t('compare.time'),
      className: 'numeric cell-nowrap',
      render: (r) => {
        const seconds = runSeconds(r); // the run page's figure
        return seconds !== null ? shortDuration(seconds) : r.status;
      },
    },
    {
      key: 'memory',
      header: t('compare.peakMemory'),
      className: 'numeric cell-nowrap',
      render: (r) => (r.summary?.peakRssBytes ? formatBytes(r.summary.peakRssBytes) : '—'),
    },
    {
      key: 'adapter',
      header: t('compare.adapterSize'),
      className: 'numeric cell-nowrap',
      render: (r) => {
        const size = adapterSize.get(r.id);
        return size ? formatBytes(size) : r.config.method === 'full' ? t('compare.fullModel') : '—';
      },
    },
  ];

  return (
    <div className="page-stack">
      <ComparisonGroups
        project={project}
        selectedId={groupId}
        onSelect={(report) => {
          window.location.hash = report ? routeHref('compare', report.group.id) : routeHref('compare');
        }}
      />
      <QueryView
        state={runs.state}
        loadingLabel={t('compare.loadingRuns')}
        errorTitle={t('compare.runsFailed')}
        onRetry={runs.reload}
      >
        {(all) =>
          all.length === 0 ? (
            <Card>
              <EmptyState
                icon="pulse"
                title={t('compare.none', { project: project.name })}
                points={compareWill()}
                actions={
                  <a className="btn btn-primary" href={routeHref('new')}>
                    {t('nav.new')}
                  </a>
                }
              >
                {t('compare.noneBody')}
              </EmptyState>
            </Card>
          ) : (
            <div className="page-stack">
              <Card title={t('compare.pick')}>
                <fieldset className="settings-fieldset">
                  <legend className="visually-hidden">{t('compare.pick')}</legend>
                  <div className="compare-picker">
                    {all.map((r) => (
                      <label key={r.id} className="checkbox-line">
                        <input
                          type="checkbox"
                          checked={picked.includes(r.id)}
                          onChange={(event) =>
                            setPicked((current) =>
                              event.target.checked ? [...current, r.id] : current.filter((id) => id !== r.id),
                            )
                          }
                        />
                        {`${r.name} · ${methodLabel(r)}`}
                      </label>
                    ))}
                  </div>
                </fieldset>
              </Card>
              {error ? <Banner title={t('compare.metricsFailed')}>{error}</Banner> : null}
              {chosen.length === 0 ? (
                <Card>
                  <EmptyState icon="pulse" title={t('compare.pickTitle')} points={compareWill()}>
                    {t('compare.pickBody')}
                  </EmptyState>
                </Card>
              ) : (
                <>
                  <div className="compare-charts">
                    <Card>
                      <h3 className="compare-chart-title">{t('compare.trainingLoss')}</h3>
                      {trainPoints.length ? (
                        <MetricChart
                          label={t('compare.trainingLossLabel')}
                          height={200}
                          points={trainPoints}
                          series={chosen.map((r, i) => ({ key: `train${i}`, label: r.name }))}
                        />
                      ) : (
                        <p className="muted">{t('compare.noTrainingLoss')}</p>
                      )}
                    </Card>
                    <Card>
                      <h3 className="compare-chart-title">{t('compare.evaluationLoss')}</h3>
                      {evalPoints.length ? (
                        <MetricChart
                          label={t('compare.evaluationLossLabel')}
                          height={200}
                          points={evalPoints}
                          series={chosen.map((r, i) => ({ key: `eval${i}`, label: r.name }))}
                        />
                      ) : (
                        <p className="muted">{t('compare.noEvalPoints')}</p>
                      )}
                    </Card>
                  </div>
                  <Card flush title={t('compare.finalNumbers')}>
                    <Table caption={t('compare.compared')} columns={columns} rows={chosen} rowKey={(r) => r.id} />
                  </Card>
                </>
              )}
            </div>
          )
        }
      </QueryView>
    </div>
  );
}
