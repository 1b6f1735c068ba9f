// The dataset previewer's pieces, shared by the Datasets page and the wizard's template step: a rendered
// example token by token (special tokens as chips, trained tokens coloured, masked ones faint), the
// token-length histogram with the max-length cut-off, and the import's problems with their rows.
import type { DatasetProblem, PreviewRow, TokenStats } from '../../../../common/api/datasets.ts';
import { sayPhrase } from '../../i18n/phrase.ts';
import { t } from '../../i18n/t.ts';
import './wizard.css';

/** A token's text with whitespace made visible where it would otherwise vanish. */
function visible(text: string): string {
  return text.replace(/\t/g, '→');
}

export function TokenView({ row, label }: { row: PreviewRow; label: string }) {
  if (row.error) return <p className="field-error">{t('preview.cannotRender', { error: sayPhrase(row.errorPhrase, row.error) })}</p>;
  if (!row.rendered) return <p className="muted">{t('preview.chooseModel')}</p>;
  const r = row.rendered;
  return (
    <figure className="token-figure">
      <div className="token-view" role="group" aria-label={label}>
        {r.pieces.map((piece, i) => {
          const classes = ['tok', piece.trained ? 'tok-trained' : 'tok-masked', piece.special ? 'tok-special' : ''].filter(Boolean).join(' ');
          const title = t('preview.tokenTitle', { ids: piece.ids.join(', '), special: piece.special, trained: piece.trained });
          if (piece.text.includes('\n') && !piece.special) {
            const parts = piece.text.split('\n');
            return (
              <span key={i} className={classes} title={title} data-trained={piece.trained}>
                {parts.map((part, j) => (
                  <span key={j}>
                    {visible(part)}
                    {j < parts.length - 1 ? (
                      <>
                        <span className="tok-newline" aria-hidden="true">↵</span>
                        <br />
                      </>
                    ) : null}
                  </span>
                ))}
              </span>
            );
          }
          return (
            <span key={i} className={classes} title={title} data-trained={piece.trained}>
              {visible(piece.text)}
            </span>
          );
        })}
      </div>
      <figcaption className="token-caption">
        <span className="legend-item"><span className="tok tok-trained">{t('preview.trained')}</span> {t('preview.trainedText')}</span>
        <span className="legend-item"><span className="tok tok-masked">{t('preview.masked')}</span> {t('preview.maskedText')}</span>
        <span className="legend-item"><span className="tok tok-special tok-masked">&lt;special&gt;</span> {t('preview.specialText')}</span>
        <span className="muted">
          {t('preview.tokenCount', { tokens: r.tokens, trained: r.trainedTokens })}
          {r.truncated ? t('preview.cutFrom', { length: r.fullLength }) : ''}
        </span>
      </figcaption>
      {r.warnings.length > 0 ? (
        <ul className="plain-list warn-list">
          {r.warnings.map((w, i) => (
            <li key={w}>{sayPhrase(r.warningPhrases[i], w)}</li>
          ))}
        </ul>
      ) : null}
    </figure>
  );
}

export function LengthHistogram({ stats }: { stats: TokenStats }) {
  const { edges, counts } = stats.histogram;
  const top = Math.max(1, ...counts);
  const cut = stats.maxLength;
  const last = edges[edges.length - 1];
  // Over the cut-off the last bar holds exactly the cut examples (its width is not to scale); otherwise the
  // bars are to scale and the cut-off sits at its length, or beyond the chart when every example is shorter.
  const cutAt = cut === null || cut > last ? null : stats.truncated > 0 ? (counts.length - 1) / counts.length : cut / last;
  return (
    <figure className="histogram-figure">
      <div className="histogram" role="img" aria-label={t('preview.histogramLabel', { count: stats.count, min: stats.min, max: stats.max, median: stats.median, truncated: stats.truncated, cut })}>
        {counts.map((count, i) => {
          const over = cut !== null && edges[i] >= cut;
          return (
            <div key={i} className="histogram-col" title={t('preview.binTitle', { from: Math.round(edges[i]), to: Math.round(edges[i + 1]), count, over })}>
              <div className={over ? 'histogram-bar histogram-bar-over' : 'histogram-bar'} style={{ height: `${(count / top) * 100}%` }} />
            </div>
          );
        })}
        {cutAt !== null ? <div className="histogram-cut" style={{ left: `${cutAt * 100}%` }} /> : null}
      </div>
      <div className="histogram-axis">
        <span>{Math.round(edges[0])}</span>
        {cutAt !== null ? (
          <span className="histogram-cut-label" style={{ left: `${cutAt * 100}%` }}>
            {t('preview.maxLength', { cut: cut ?? 0 })}
          </span>
        ) : null}
        <span>{t('preview.tokensAxis', { tokens: Math.round(last) })}</span>
      </div>
      <figcaption className="histogram-caption">
        <span>{t('preview.measured', { count: stats.count, median: stats.median, p95: stats.p95, max: stats.max })}</span>
        <span className={stats.truncated > 0 ? 'text-warning' : undefined}>
          {stats.truncated > 0
            ? t('preview.truncated', { count: stats.truncated, share: stats.truncatedShare, cut: cut ?? 0 })
            : t('preview.noneTruncated', { cut, beyond: cut !== null && cut > last })}
        </span>
        {stats.untrainable > 0 ? <span className="text-warning">{t('preview.untrainable', { count: stats.untrainable })}</span> : null}
      </figcaption>
    </figure>
  );
}

export function ProblemList({ problems, total, problemCount }: { problems: DatasetProblem[]; total: number; problemCount?: number }) {
  if (total === 0) return <p className="muted">{t('datasets.noBadRows')}</p>;
  const count = problemCount ?? problems.length;
  // Problems grouped under their row: a row with two problems is one row left out, listed once.
  const rows = new Map<number, DatasetProblem[]>();
  for (const p of problems) rows.set(p.row, [...(rows.get(p.row) ?? []), p]);
  const listedRows = rows.size;
  return (
    <div className="stack">
      <p>
        {t('datasets.badRowsSummary', { rows: total, problems: Math.max(count, total) })}
        {listedRows < total ? ` ${t('datasets.firstListed', { listed: listedRows })}` : ''}
      </p>
      <ul className="problem-list" aria-label={t('datasets.problemsList')}>
        {[...rows.values()].map((list) => (
          <li key={list[0].row} className="problem-row">
            <span className="problem-where">{rowName(list[0])}</span>
            <ul className="problem-items">
              {list.map((p) => (
                <li key={`${p.field ?? ''}-${p.message}`}>
                  {p.field ? <code>{p.field}</code> : null}{' '}
                  <span>
                    {sayPhrase(p.phrase, p.message)}
                    {p.expected ? <span className="muted">{t('datasets.expected', { expected: sayPhrase(p.expectedPhrase, p.expected) })}</span> : null}
                  </span>
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ul>
    </div>
  );
}

/** "line 6" for line-based files, "row 5" otherwise. */
export function rowName(where: { row: number; line?: number }): string {
  return where.line !== undefined ? t('datasets.line', { line: where.line }) : t('datasets.row', { row: where.row });
}
