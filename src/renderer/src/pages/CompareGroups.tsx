// Compare runs → comparison groups (LoRA vs full fine-tuning, r / target sweeps): pick a group, and its members'
// training time, trainable parameters, peak memory, size on disk and metric are drawn side by side as bars (plain
// SVG: each bar's height is its recorded value over the largest, from a zero baseline) with the table of the same
// figures. The list follows the core's job events, so bars fill in as the members finish one after the other.
import { useState } from 'react';
import type { Project } from '../../../common/api/projects.ts';
import type { RunGroupReport } from '../../../common/api/compare.ts';
import { toStudioApiError } from '../api/client.ts';
import { useEvent, useQuery } from '../api/hooks.ts';
import { Banner, Button, Card, StatusBadge, Table, type Column } from '../components/index.ts';
import { routeHref } from '../routes.ts';
import { useStudio } from '../state/studio.tsx';
import { t } from '../i18n/t.ts';
import { barHeights, groupFigures, memberCaption, metricName, type GroupFigure } from './CompareData.ts';
import { StartComparisonButton } from './CompareStart.tsx';
import './Compare.css';

const BAR_AREA = 120; // px of the tallest bar

export function ComparisonGroups({
  project,
  selectedId,
  onSelect,
}: {
  project: Project;
  selectedId: string | null;
  onSelect: (report: RunGroupReport | null) => void;
}) {
  const client = useStudio();
  const groups = useQuery('compare.list', { projectId: project.id });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEvent('job.status', (job) => {
    if (job.projectId === project.id) groups.reload();
  });
  const list = groups.state.status === 'ready' ? groups.state.data : [];
  const selected = list.find((g) => g.group.id === selectedId) ?? null;

  const act = async (method: 'compare.cancel' | 'compare.resume', id: string) => {
    setBusy(true);
    setError(null);
    try {
      await client.invoke(method, { id });
      groups.reload();
    } catch (err) {
      setError(toStudioApiError(err).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card title={t('compare.groups.title')} actions={<StartComparisonButton projectId={project.id} />}>
      {groups.state.status === 'error' ? (
        <Banner title={t('compare.groups.failed')}>{groups.state.error.message}</Banner>
      ) : null}
      {list.length === 0 ? (
        <p className="muted">{t('compare.groups.none')}</p>
      ) : (
        <div className="compare-groups">
          <label className="field">
            <span className="field-label">{t('compare.groups.pick')}</span>
            <select
              className="input"
              value={selected?.group.id ?? ''}
              onChange={(event) => onSelect(list.find((g) => g.group.id === event.target.value) ?? null)}
            >
              <option value="">{t('compare.groups.choose')}</option>
              {list.map((g) => (
                <option key={g.group.id} value={g.group.id}>
                  {`${g.group.name} · ${g.group.kind === 'methods' ? t('compare.groups.kindMethods') : t('compare.groups.kindSweep')} · ${g.done ? t('compare.groups.done') : t('compare.groups.training')}`}
                </option>
              ))}
            </select>
          </label>
          {error ? <Banner title={t('compare.groups.actionFailed')}>{error}</Banner> : null}
          {selected ? (
            <GroupReport report={selected} busy={busy} onAction={(m) => void act(m, selected.group.id)} />
          ) : null}
        </div>
      )}
    </Card>
  );
}

function GroupReport({
  report,
  busy,
  onAction,
}: {
  report: RunGroupReport;
  busy: boolean;
  onAction: (method: 'compare.cancel' | 'compare.resume') => void;
}) {
  const figures = groupFigures(report);
  const captions = report.rows.map(memberCaption);
  const columns: Column<RunGroupReport['rows'][number]>[] = [
    {
      key: 'run',
      header: t('compare.run'),
      className: 'cell-nowrap',
      render: (r) => <a href={routeHref('runs', r.runId)}>{memberCaption(r)}</a>,
    },
    {
      key: 'status',
      header: t('exports.status'),
      className: 'cell-nowrap',
      render: (r) => <StatusBadge status={r.status} />,
    },
    ...figures.map((f): Column<RunGroupReport['rows'][number]> => ({
      key: f.key,
      header: f.key === 'metric' ? metricName(report.group.metric.key) : f.title,
      className: 'numeric cell-nowrap',
      render: (r) => {
        const v = r[f.key];
        return v === null ? '—' : f.format(v);
      },
    })),
  ];
  return (
    <div className="page-stack" data-testid="compare-group" data-group={report.group.id}>
      <p className="muted">
        {t('compare.groups.same', { model: report.group.model, dataset: report.group.dataset })}
        {report.done ? '' : ` ${t('compare.groups.oneAfterOther')}`}
      </p>
      {report.stalled ? (
        <Banner
          tone="info"
          title={t('compare.groups.stalledTitle')}
          actions={
            <Button size="sm" busy={busy} onClick={() => onAction('compare.resume')}>
              {t('compare.groups.resume')}
            </Button>
          }
        >
          {t('compare.groups.stalled')}
        </Banner>
      ) : null}
      {!report.done && !report.stalled ? (
        <div>
          <Button size="sm" variant="ghost" busy={busy} onClick={() => onAction('compare.cancel')}>
            {t('compare.groups.cancel')}
          </Button>
        </div>
      ) : null}
      <div className="compare-bars">
        {figures.map((f) => (
          <BarChart key={f.key} figure={f} captions={captions} />
        ))}
      </div>
      <ul className="chart-legend compare-bar-legend" aria-hidden="true">
        {captions.map((c, i) => (
          <li key={c + i}>
            <span className={`chart-swatch series-${(i % 4) + 1}`} />
            {c}
          </li>
        ))}
      </ul>
      <Table
        caption={t('compare.groups.tableCaption', { name: report.group.name })}
        columns={columns}
        rows={report.rows}
        rowKey={(r) => r.runId}
      />
    </div>
  );
}

/** One figure: a bar per member, its value above it; a member without the figure yet gets a dash. */
function BarChart({ figure, captions }: { figure: GroupFigure; captions: string[] }) {
  const heights = barHeights(figure.values, BAR_AREA);
  const slot = 72;
  const width = Math.max(1, figure.values.length) * slot;
  const top = 18;
  const label = `${figure.title}: ${figure.values.map((v, i) => `${captions[i]} ${v === null ? '—' : figure.format(v)}`).join('; ')}`;
  return (
    <figure className="compare-bar-chart" data-figure={figure.key}>
      <figcaption className="compare-chart-title">{figure.title}</figcaption>
      <svg
        viewBox={`0 0 ${width} ${BAR_AREA + top + 2}`}
        width={width}
        height={BAR_AREA + top + 2}
        role="img"
        aria-label={label}
      >
        <line className="compare-bar-axis" x1={0} x2={width} y1={BAR_AREA + top} y2={BAR_AREA + top} />
        {heights.map((h, i) => {
          const x = i * slot + 14;
          const value = figure.values[i];
          return (
            <g key={i} className={`series-${(i % 4) + 1}`}>
              {h !== null ? (
                <rect
                  className="compare-bar"
                  data-member={i}
                  data-value={value ?? undefined}
                  x={x}
                  y={BAR_AREA + top - h}
                  width={slot - 28}
                  height={h}
                  rx={2}
                >
                  <title>{`${captions[i]}: ${figure.format(value!)}`}</title>
                </rect>
              ) : null}
              <text
                className="compare-bar-value"
                x={x + (slot - 28) / 2}
                y={BAR_AREA + top - (h ?? 0) - 4}
                textAnchor="middle"
              >
                {value === null ? '—' : figure.format(value)}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
