// The loss curve of a run as a small standalone SVG for the model card (the Hub shows images a card links
// to by relative path). Drawn here rather than by a chart library: a card is written in a worker with no DOM.
// Training loss is a line; evaluation loss, when measured, is a dashed line with a dot per evaluation.

export interface CurvePoint {
  step: number;
  loss: number;
}

export const LOSS_CURVE_FILE = 'loss_curve.svg';

const W = 640;
const H = 320;
const M = { left: 56, right: 16, top: 28, bottom: 40 };

/** Round numbers for axis ticks covering [lo, hi]: 1, 2 or 5 × a power of ten apart. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

const fmt = (v: number) => (Math.abs(v) >= 1000 ? v.toFixed(0) : Number(v.toPrecision(3)).toString());

/** The SVG text, or null when there is nothing to draw (no finite loss). */
export function renderLossCurveSvg(train: CurvePoint[], evaluation: CurvePoint[] = []): string | null {
  const finite = (ps: CurvePoint[]) =>
    ps.filter((p) => Number.isFinite(p.loss) && Number.isFinite(p.step)).sort((a, b) => a.step - b.step);
  const t = finite(train);
  const e = finite(evaluation);
  const all = [...t, ...e];
  if (all.length === 0) return null;
  let [x0, x1] = [Math.min(...all.map((p) => p.step)), Math.max(...all.map((p) => p.step))];
  let [y0, y1] = [Math.min(...all.map((p) => p.loss)), Math.max(...all.map((p) => p.loss))];
  if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
  if (y1 === y0) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const pad = (y1 - y0) * 0.05;
  [y0, y1] = [y0 - pad, y1 + pad];
  const px = (s: number) => M.left + ((s - x0) / (x1 - x0)) * (W - M.left - M.right);
  const py = (l: number) => H - M.bottom - ((l - y0) / (y1 - y0)) * (H - M.top - M.bottom);
  const path = (ps: CurvePoint[]) => ps.map((p) => `${px(p.step).toFixed(1)},${py(p.loss).toFixed(1)}`).join(' ');

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${M.left}" y="18" font-size="13" fill="#111">Loss by step</text>`);
  for (const v of niceTicks(y0, y1)) {
    const y = py(v).toFixed(1);
    out.push(`<line x1="${M.left}" y1="${y}" x2="${W - M.right}" y2="${y}" stroke="#e5e7eb"/>`);
    out.push(
      `<text x="${M.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#444">${fmt(v)}</text>`,
    );
  }
  for (const v of niceTicks(x0, x1).filter((s) => Number.isInteger(s))) {
    const x = px(v).toFixed(1);
    out.push(`<line x1="${x}" y1="${H - M.bottom}" x2="${x}" y2="${H - M.bottom + 4}" stroke="#444"/>`);
    out.push(`<text x="${x}" y="${H - M.bottom + 16}" text-anchor="middle" fill="#444">${fmt(v)}</text>`);
  }
  out.push(`<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="#444"/>`);
  out.push(`<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${H - M.bottom}" stroke="#444"/>`);
  out.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 6}" text-anchor="middle" fill="#444">step</text>`);
  out.push(
    `<text x="14" y="${(M.top + H - M.bottom) / 2}" text-anchor="middle" fill="#444" transform="rotate(-90 14 ${(M.top + H - M.bottom) / 2})">loss</text>`,
  );
  if (t.length > 0) {
    out.push(`<polyline id="train" fill="none" stroke="#2563eb" stroke-width="1.5" points="${path(t)}"/>`);
  }
  if (e.length > 0) {
    out.push(
      `<polyline id="eval" fill="none" stroke="#dc2626" stroke-width="1.5" stroke-dasharray="5 3" points="${path(e)}"/>`,
    );
    for (const p of e)
      out.push(`<circle cx="${px(p.step).toFixed(1)}" cy="${py(p.loss).toFixed(1)}" r="2.5" fill="#dc2626"/>`);
  }
  const legend = [
    t.length > 0 ? ['#2563eb', 'training loss'] : null,
    e.length > 0 ? ['#dc2626', 'evaluation loss'] : null,
  ].filter((x): x is string[] => x !== null);
  legend.forEach(([color, label], i) => {
    const x = W - M.right - 130;
    const y = M.top + 6 + i * 16;
    out.push(`<line x1="${x}" y1="${y}" x2="${x + 18}" y2="${y}" stroke="${color}" stroke-width="2"/>`);
    out.push(`<text x="${x + 24}" y="${y}" dominant-baseline="middle" fill="#111">${label}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
