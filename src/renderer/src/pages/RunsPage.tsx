// Runs of the current project, live: the list follows the core's job events (a run that starts, ends or
// fails anywhere — this page, another window, the CLI — shows up without a reload).
import { lazy, Suspense, useState } from 'react';
import type { Project } from '../../../common/api/projects.ts';
import type { Run } from '../../../common/api/runs.ts';
import { toStudioApiError } from '../api/client.ts';
import { useEvent, useQuery } from '../api/hooks.ts';
import { Banner, Button, Card, EmptyState, PageHeader, ProgressBar, QueryView, Spinner, StatusBadge, Table, type Column } from '../components/index.ts';
import { formatDateTime, formatDuration, formatMetric } from '../format.ts';
import { routeHref } from '../routes.ts';
import { useLocation } from '../state/location.ts';
import { useStudio } from '../state/studio.tsx';
import { ProjectGate } from './ProjectGate.tsx';
import { describeRun, runSeconds } from './run-labels.ts';
import { ImportRunButton } from './RunElsewhere.tsx';
import { useProjects } from '../state/projects.tsx';
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
            {currentProject ? <ImportRunButton projectId={currentProject.id} onImported={() => setImported((n) => n + 1)} /> : null}
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

  const listed = runs.state.status === 'ready' ? runs.state.data : [];
  useEvent('job.status', (job) => {
    if (job.projectId === project.id || listed.some((run) => run.jobId === job.id)) runs.reload();
  });
  useEvent('job.progress', (event) => {
    if (!listed.some((run) => run.jobId === event.jobId)) return;
    setLive((previous) => ({ ...previous, [event.jobId]: { progress: event.progress, message: event.message, etaSeconds: event.etaSeconds ?? null } }));
  });
  // The newest training loss of each running job, as it is logged (the stored one arrives with the next reload).
  const [liveLoss, setLiveLoss] = useState<Record<string, number>>({});
  useEvent('job.metric', (event) => {
    const loss = event.values.loss;
    if (loss === undefined || !listed.some((run) => run.jobId === event.jobId)) return;
    setLiveLoss((previous) => ({ ...previous, [event.jobId]: loss }));
  });

  const act = async (run: Run, action: 'cancel' | 'resume') => {
    setBusyRunId(run.id);
    setActionError(null);
    try {
      await client.invoke(action === 'cancel' ? 'runs.cancel' : 'runs.resume', { id: run.id });
      runs.reload();
    } catch (error) {
      setActionError(`Could not ${action} “${run.name}”: ${toStudioApiError(error).message}`);
    } finally {
      setBusyRunId(null);
    }
  };

  const columns: Column<Run>[] = [
    {
      key: 'name',
      header: 'Run',
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
    { key: 'status', header: 'Status', className: 'cell-nowrap', render: (run) => <StatusBadge status={run.status} /> },
    { key: 'progress', header: 'Progress', render: (run) => <RunProgress run={run} live={run.jobId ? live[run.jobId] : undefined} /> },
    { key: 'train', header: 'Train loss', className: 'numeric cell-nowrap', render: (run) => formatMetric(run.summary?.trainLoss ?? (run.jobId ? liveLoss[run.jobId] : undefined) ?? run.lastTrainLoss) },
    { key: 'eval', header: 'Eval loss', className: 'numeric cell-nowrap', render: (run) => formatMetric(run.summary?.evalLoss) },
    {
      key: 'time',
      header: 'Started',
      className: 'cell-nowrap muted',
      render: (run) =>
        run.startedAt ? (
          <span title={run.endedAt ? `Ended ${formatDateTime(run.endedAt)}` : undefined}>
            {formatDateTime(run.startedAt)}
            <br />
            <span className="faint">{formatDuration(runSeconds(run) ?? 0)}</span>
          </span>
        ) : (
          'Not started'
        ),
    },
    {
      key: 'actions',
      header: <span className="visually-hidden">Actions</span>,
      className: 'cell-actions',
      render: (run) =>
        run.status === 'running' || run.status === 'queued' ? (
          <Button
            size="sm"
            variant="ghost"
            busy={busyRunId === run.id}
            // Cancelling asks first, as on the run page: training stops at the next step.
            onClick={() => window.confirm(`Cancel “${run.name}”? Training stops within one step; a checkpoint is saved so it can resume.`) && void act(run, 'cancel')}
            aria-label={`Cancel ${run.name}`}
          >
            Cancel
          </Button>
        ) : (run.status === 'cancelled' || run.status === 'failed') && run.checkpointStep !== null ? (
          <Button size="sm" variant="ghost" busy={busyRunId === run.id} onClick={() => void act(run, 'resume')} aria-label={`Resume ${run.name} from step ${run.checkpointStep}`}>
            {`Resume from step ${run.checkpointStep}`}
          </Button>
        ) : null,
    },
  ];

  return (
    <>
      {actionError ? <Banner title="The action did not go through">{actionError}</Banner> : null}
      <QueryView state={runs.state} loadingLabel="Loading runs…" errorTitle="Could not load the runs" onRetry={runs.reload}>
        {(list) =>
          list.length === 0 ? (
            <Card>
              <EmptyState icon="pulse" title={`No runs in “${project.name}” yet`} points={will()}>
                A run appears here, live, as soon as it starts: start one from <a href="#/new">New fine-tune</a>, or from a terminal:
                <code className="cli-hint">{`lora-studio train --project "${project.name}" --model <model folder> --dataset <file>`}</code>
              </EmptyState>
            </Card>
          ) : (
            <Card flush>
              <Table caption="Runs" columns={columns} rows={list} rowKey={(run) => run.id} />
            </Card>
          )
        }
      </QueryView>
    </>
  );
}

function RunProgress({ run, live }: { run: Run; live: LiveProgress | undefined }) {
  const steps = run.summary ? `${run.summary.steps} / ${run.summary.totalSteps} steps` : null;
  if (run.status === 'running' || run.status === 'queued') {
    const eta = live?.etaSeconds != null ? `, about ${formatDuration(live.etaSeconds)} left` : '';
    return (
      <div className="run-progress">
        <ProgressBar value={live?.progress ?? null} label={`Progress of ${run.name}`} />
        <span className="run-progress-text">{(live?.message ?? steps ?? (run.status === 'queued' ? 'Waiting to start' : 'Starting')) + eta}</span>
      </div>
    );
  }
  return <span className="muted">{steps ?? '—'}</span>;
}
