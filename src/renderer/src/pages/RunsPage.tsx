// Runs of the current project, live: the list follows the core's job events (a run that starts, ends or
// fails anywhere — this page, another window, the CLI — shows up without a reload).
import { lazy, Suspense, useState } from 'react';
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
  type Column,
} from '../components/index.ts';
import { formatDateTime, formatDuration, formatMetric } from '../format.ts';
import { routeHref } from '../routes.ts';
import { useLocation } from '../state/location.ts';
import { useStudio } from '../state/studio.tsx';
import { ProjectGate } from './ProjectGate.tsx';
import { describeRun, runSeconds } from './run-labels.ts';
import { ImportRunButton } from './RunElsewhere.tsx';
import { CancelRunDialog } from './CancelRunDialog.tsx';
import { StartComparisonButton } from './CompareStart.tsx';
import { useProjects } from '../state/projects.tsx';
import { sayPhrase } from '../i18n/phrase.ts';
import { t } from '../i18n/t.ts';

const RunDetail = lazy(() => import('./RunDetail.tsx').then((module) => ({ default: module.RunDetail })));

const will = () => [t('runs.will1'), t('runs.will2'), t('runs.will3')];

export function RunsPage() {
  const { params } = useLocation();
  if (params[0]) {
    return (
      <Suspense fallback={<Spinner label={t('runs.loadingRun')} />}>
        <RunDetail key={params[0]} runId={params[0]} />
      </Suspense>
    );
  }
  return <RunsOverview />;
}

function RunsOverview() {
  const { currentProject } = useProjects();
  const [imported, setImported] = useState(0);
  return (
    <>
      <PageHeader
        title={t('nav.runs')}
        description={t('runs.description')}
        actions={
          <>
            {currentProject ? (
              <ImportRunButton projectId={currentProject.id} onImported={() => setImported((n) => n + 1)} />
            ) : null}
            {currentProject ? <StartComparisonButton projectId={currentProject.id} size="md" /> : null}
            <a className="btn btn-secondary" href={routeHref('new')}>
              {t('nav.new')}
            </a>
          </>
        }
      />
      <ProjectGate pageTitle={t('nav.runs')} icon="pulse" will={will()}>
        {(project) => <RunList key={`${project.id}-${imported}`} project={project} />}
      </ProjectGate>
    </>
  );
}

interface LiveProgress {
  progress: number | null;
  message: string | null;
  etaSeconds: number | null;
}

function RunList({ project }: { project: Project }) {
  const client = useStudio();
  const runs = useQuery('runs.list', { projectId: project.id });
  const [live, setLive] = useState<Record<string, LiveProgress>>({});
  const [actionError, setActionError] = useState<string | null>(null);
  const [busyRunId, setBusyRunId] = useState<string | null>(null);
  // The run whose cancel is being confirmed (the run page's dialog), and why the cancel failed if it did.
  const [cancelling, setCancelling] = useState<Run | null>(null);
  const [cancelError, setCancelError] = useState<string | null>(null);

  const listed = runs.state.status === 'ready' ? runs.state.data : [];
  useEvent('job.status', (job) => {
    if (job.projectId === project.id || listed.some((run) => run.jobId === job.id)) runs.reload();
  });
  useEvent('job.progress', (event) => {
    if (!listed.some((run) => run.jobId === event.jobId)) return;
    setLive((previous) => ({
      ...previous,
      // the job's line in the UI's language (its phrase), not the core's English text
      [event.jobId]: { progress: event.progress, message: event.message === null ? null : sayPhrase(event.phrase, event.message), etaSeconds: event.etaSeconds ?? null },
    }));
  });
  // The newest training loss of each running job, as it is logged (the stored one arrives with the next reload).
  const [liveLoss, setLiveLoss] = useState<Record<string, number>>({});
  useEvent('job.metric', (event) => {
    const loss = event.values.loss;
    if (loss === undefined || !listed.some((run) => run.jobId === event.jobId)) return;
    setLiveLoss((previous) => ({ ...previous, [event.jobId]: loss }));
  });

  const confirmCancel = async (run: Run) => {
    setBusyRunId(run.id);
    setCancelError(null);
    try {
      await client.invoke('runs.cancel', { id: run.id });
      setCancelling(null);
      runs.reload();
    } catch (error) {
      setCancelError(toStudioApiError(error).message);
    } finally {
      setBusyRunId(null);
    }
  };

  const resume = async (run: Run) => {
    setBusyRunId(run.id);
    setActionError(null);
    try {
      await client.invoke('runs.resume', { id: run.id });
      runs.reload();
    } catch (error) {
      setActionError(t('runs.resumeFailed', { name: run.name, reason: toStudioApiError(error).message }));
    } finally {
      setBusyRunId(null);
    }
  };

  const columns: Column<Run>[] = [
    {
      key: 'name',
      header: t('compare.run'),
      render: (run) => (
        <div className="project-cell">
          <a className="project-name run-link" href={routeHref('runs', run.id)}>
            {run.name}
          </a>
          <span className="project-description">{describeRun(run)}</span>
          {run.status === 'failed' && run.error ? <span className="run-error">{run.error}</span> : null}
        </div>
      ),
    },
    {
      key: 'status',
      header: t('exports.status'),
      className: 'cell-nowrap',
      render: (run) => <StatusBadge status={run.status} />,
    },
    {
      key: 'progress',
      header: t('runs.progress'),
      render: (run) => <RunProgress run={run} live={run.jobId ? live[run.jobId] : undefined} />,
    },
    {
      key: 'train',
      header: t('compare.trainLoss'),
      className: 'numeric cell-nowrap',
      render: (run) =>
        formatMetric(run.summary?.trainLoss ?? (run.jobId ? liveLoss[run.jobId] : undefined) ?? run.lastTrainLoss),
    },
    {
      key: 'eval',
      header: t('compare.evalLoss'),
      className: 'numeric cell-nowrap',
      render: (run) => formatMetric(run.summary?.evalLoss),
    },
    {
      key: 'time',
      header: t('runs.started'),
      className: 'cell-nowrap muted',
      render: (run) =>
        run.startedAt ? (
          <span title={run.endedAt ? t('runs.ended', { when: formatDateTime(run.endedAt) }) : undefined}>
            {formatDateTime(run.startedAt)}
            <br />
            <span className="faint">{formatDuration(runSeconds(run) ?? 0)}</span>
          </span>
        ) : (
          t('runs.notStarted')
        ),
    },
    {
      key: 'actions',
      header: <span className="visually-hidden">{t('common.actions')}</span>,
      className: 'cell-actions',
      render: (run) =>
        run.status === 'running' || run.status === 'queued' ? (
          <Button
            size="sm"
            variant="ghost"
            busy={busyRunId === run.id}
            // Cancelling asks first, with the run page's dialog: training stops at the next step.
            onClick={() => (setCancelError(null), setCancelling(run))}
            aria-label={t('runs.cancelLabel', { name: run.name })}
          >
            {t('common.cancel')}
          </Button>
        ) : (run.status === 'cancelled' || run.status === 'failed') && run.checkpointStep !== null ? (
          <Button
            size="sm"
            variant="ghost"
            busy={busyRunId === run.id}
            onClick={() => void resume(run)}
            aria-label={t('runs.resumeLabel', { name: run.name, step: run.checkpointStep })}
          >
            {t('runs.resumeFrom', { step: run.checkpointStep })}
          </Button>
        ) : null,
    },
  ];

  return (
    <>
      {actionError ? <Banner title={t('runs.actionFailed')}>{actionError}</Banner> : null}
      {cancelling ? (
        <CancelRunDialog
          run={cancelling}
          open
          busy={busyRunId === cancelling.id}
          error={cancelError}
          onClose={() => setCancelling(null)}
          onConfirm={() => void confirmCancel(cancelling)}
        />
      ) : null}
      <QueryView
        state={runs.state}
        loadingLabel={t('compare.loadingRuns')}
        errorTitle={t('compare.runsFailed')}
        onRetry={runs.reload}
      >
        {(list) =>
          list.length === 0 ? (
            <Card>
              <EmptyState icon="pulse" title={t('runs.none', { project: project.name })} points={will()}>
                {t('runs.noneBefore')} <a href="#/new">{t('nav.new')}</a>
                {t('runs.noneAfter')}
                <code className="cli-hint">{`lora-studio train --project "${project.name}" --model <model folder> --dataset <file>`}</code>
              </EmptyState>
            </Card>
          ) : (
            <Card flush>
              <Table caption={t('nav.runs')} columns={columns} rows={list} rowKey={(run) => run.id} />
            </Card>
          )
        }
      </QueryView>
    </>
  );
}

function RunProgress({ run, live }: { run: Run; live: LiveProgress | undefined }) {
  const steps = run.summary ? t('runs.steps', { steps: run.summary.steps, total: run.summary.totalSteps }) : null;
  if (run.status === 'running' || run.status === 'queued') {
    const eta = live?.etaSeconds != null ? t('runs.eta', { left: formatDuration(live.etaSeconds) }) : '';
    return (
      <div className="run-progress">
        <ProgressBar value={live?.progress ?? null} label={t('runs.progressOf', { name: run.name })} />
        <span className="run-progress-text">
          {(live?.message ?? steps ?? (run.status === 'queued' ? t('runs.waiting') : t('runs.starting'))) + eta}
        </span>
      </div>
    );
  }
  return <span className="muted">{steps ?? '—'}</span>;
}
