// linear: y = x·Wᵀ + b as Gemm(transB=1) on the frozen (OC, IC) weight — no transposed copy of it is made —
// plus the LoRA branch hs = scale·(dropout(x)·Aᵀ) (N, r), y += hs·Bᵀ.
// Backward: dx = dy·W (+ mask ⊙ scale·(dy·B)·A); dW = dyᵀ·x; db = Σ dy; dA = (scale·dy·B)ᵀ·xd; dB = dyᵀ·hs.
// Dropout is Where(keep, v/(1−p), 0) on the batch's bool keep mask, both ways, and xd is recomputed for dA: between
// forward and backward the step holds one byte per masked element, not a float multiplier and a float xd.
import type { OpNode } from '../../../../model/ir.ts';
import type { LowerCtx } from './context.ts';
import { nf4Dequantize, nf4MatMul } from './nf4-linear.ts';

type Node = Extract<OpNode, { op: 'linear' }>;

/** baseY: the base product x·Wᵀ + b already computed by a fused group (q/k/v or gate/up sharing x). */
export function linearForward(c: LowerCtx, n: Node, idx: number, baseY?: string): void {
  const { g } = c;
  const x = c.value(n.x); // (N, IC)
  const q = c.nf4?.(n.weight) ?? null;
  let y = baseY ?? (q ? nf4MatMul(g, x, q, n.bias ? c.value(n.bias) : null) : g.op('Gemm', [x, c.value(n.weight), ...(n.bias ? [c.value(n.bias)] : [])], { transB: 1 })); // (N, OC)
  if (n.lora) {
    const xd = dropout(c, n, x);
    const A = c.value(n.lora.A); // (r, IC)
    const B = c.value(n.lora.B); // (OC, r)
    const hs = g.mul(g.op('Gemm', [xd, A], { transB: 1 }), g.scalar(n.lora.scale)); // (N, r)
    y = g.add(y, g.op('Gemm', [hs, B], { transB: 1 }));
    c.saved.set(idx, { xd, hs });
  }
  c.setValue(n.out, y);
}

/** groupedDx: the base part dout·W of dx is computed once for a fused group (see fuseLinearGroups). */
export function linearBackward(c: LowerCtx, n: Node, idx: number, dout: string, groupedDx = false): void {
  const { g } = c;
  const x = c.value(n.x);
  const wantX = c.needsGrad(n.x);
  const q = c.nf4?.(n.weight) ?? null;
  const W = () => (q ? nf4Dequantize(g, q) : c.value(n.weight)); // an NF4 weight is dequantized for dx, never read by MatMulBnb4 transB=0
  let dx = wantX && !groupedDx ? g.matmul(dout, W()) : null; // (N, IC)
  if (c.needsGrad(n.weight)) c.addGrad(n.weight, g.op('Gemm', [dout, x], { transA: 1 })); // (OC, IC)
  if (n.bias && c.needsGrad(n.bias)) c.addGrad(n.bias, g.reduceSum(dout, [0], 0));
  if (n.lora) {
    const { xd: savedXd, hs } = c.saved.get(idx)!;
    const A = c.value(n.lora.A);
    const B = c.value(n.lora.B);
    const dh = g.mul(g.matmul(dout, B), g.scalar(n.lora.scale)); // (N, r)
    // under dropout, xd is drawn again from x and the kept mask rather than held from the forward: q, k and v each
    // had their own (N, IC) float xd of one x, which is held once instead (8 bytes an element saved per shared input)
    const xd = savedXd === x ? x : dropout(c, n, x);
    if (c.needsGrad(n.lora.A)) c.addGrad(n.lora.A, g.op('Gemm', [dh, xd], { transA: 1 })); // (r, IC)
    if (c.needsGrad(n.lora.B)) c.addGrad(n.lora.B, g.op('Gemm', [dout, hs], { transA: 1 })); // (OC, r)
    if (wantX) {
      const masked = dropout(c, n, g.matmul(dh, A));
      dx = dx ? g.add(dx, masked) : masked;
    }
  }
  if (dx) c.addGrad(n.x, dx);
}

/** v with the LoRA branch's inverted dropout applied (the same mask forward and backward); v itself without one. */
function dropout(c: LowerCtx, n: Node, v: string): string {
  const keep = c.batch.dropMask(n.module);
  if (!keep || !n.lora) return v;
  const { g } = c;
  return g.op('Where', [keep, g.mul(v, g.scalar(1 / (1 - n.lora.dropout))), g.scalar(0)]);
}

type LinearNode = Node;

/**
 * Linears reading the same input with frozen weights (q/k/v, gate/up) run as ONE Gemm on the weights stacked
 * along OC, and their base input-gradient as ONE MatMul on the concatenated output gradients: fewer, wider GEMMs
 * are what the CPU does best. LoRA branches stay per module.
 */
export function fuseLinearGroups(nodes: readonly OpNode[], fusable: (n: LinearNode) => boolean): LinearNode[][] {
  const groups: LinearNode[][] = [];
  let cur: LinearNode[] = [];
  const flush = () => {
    if (cur.length > 1) groups.push(cur);
    cur = [];
  };
  for (const n of nodes) {
    if (n.op !== 'linear' || !fusable(n)) {
      flush();
      continue;
    }
    if (cur.length && (cur[0].x !== n.x || !!cur[0].bias !== !!n.bias)) flush();
    cur.push(n);
  }
  flush();
  return groups;
}
