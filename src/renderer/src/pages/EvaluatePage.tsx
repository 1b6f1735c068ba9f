// Evaluations of the current project: perplexity of the base model and of base + adapter on held-out
// rows. Live like the Runs page: an evaluation started anywhere appears and completes without a reload.
import type { Project } from '../../../common/api/projects.ts';
import type { Evaluation } from '../../../common/api/runs.ts';
import { useEvent, useQuery } from '../api/hooks.ts';
import { Card, EmptyState, PageHeader, QueryView, StatusBadge, Table, type Column } from '../components/index.ts';
import { basename, formatDateTime, formatMetric, perplexityChange } from '../format.ts';
import { ProjectGate } from './ProjectGate.tsx';

const WILL = [
  'Compare perplexity before and after fine-tuning on the evaluation split.',
  'Sort examples by how much they changed and open any of them in Chat.',
];

export function EvaluatePage() {
  return (
    <>
      <PageHeader
        title="Evaluate"
        description="How much a fine-tune changed the model on held-out examples: perplexity of the base model, and of the base with the adapter. Lower is better."
      />
      <ProjectGate pageTitle="Evaluate" icon="gauge" will={WILL}>
        {(project) => <EvaluationList key={project.id} project={project} />}
      </ProjectGate>
    </>
  );
}

function EvaluationList({ project }: { project: Project }) {
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
      header: 'Evaluated',
      render: (evaluation) => (
        <div className="project-cell">
          <span className="project-name">
            {(evaluation.runId ? runNames.get(evaluation.runId) : undefined) ?? (evaluation.adapterPath ? basename(evaluation.adapterPath) : basename(evaluation.model))}
          </span>
          <span className="project-description">
            {evaluation.adapterPath ? `adapter on ${basename(evaluation.model)}` : 'base model only'}
            {evaluation.examples > 0 ? ` · ${evaluation.examples} examples, ${evaluation.tokens} tokens` : ''}
          </span>
          {evaluation.status === 'failed' && evaluation.error ? <span className="run-error">{evaluation.error}</span> : null}
        </div>
      ),
    },
    { key: 'status', header: 'Status', className: 'cell-nowrap', render: (evaluation) => <StatusBadge status={evaluation.status} /> },
    { key: 'base', header: 'Base perplexity', className: 'numeric cell-nowrap', render: (evaluation) => formatMetric(evaluation.basePerplexity) },
    { key: 'tuned', header: 'Tuned perplexity', className: 'numeric cell-nowrap', render: (evaluation) => formatMetric(evaluation.adapterPerplexity) },
    {
      key: 'change',
      header: 'Change',
      className: 'numeric cell-nowrap',
      render: (evaluation) => {
        const change = perplexityChange(evaluation);
        if (change === null) return '—';
        return <span className={change < 0 ? 'change-better' : 'change-worse'}>{`${change < 0 ? '−' : '+'}${Math.abs(change * 100).toFixed(1)} %`}</span>;
      },
    },
    { key: 'when', header: 'Created', className: 'cell-nowrap muted', render: (evaluation) => formatDateTime(evaluation.createdAt) },
  ];

  return (
    <QueryView state={evaluations.state} loadingLabel="Loading evaluations…" errorTitle="Could not load the evaluations" onRetry={evaluations.reload}>
      {(list) =>
        list.length === 0 ? (
          <Card>
            <EmptyState icon="gauge" title={`No evaluations in “${project.name}” yet`} points={WILL}>
              Evaluation needs a finished run and its adapter. Starting one from this page is not built yet; until then, from a terminal:
              <code className="cli-hint">{'lora-studio eval --run <run id>'}</code>
            </EmptyState>
          </Card>
        ) : (
          <Card flush>
            <Table caption="Evaluations" columns={columns} rows={list} rowKey={(evaluation) => evaluation.id} />
          </Card>
        )
      }
    </QueryView>
  );
}
