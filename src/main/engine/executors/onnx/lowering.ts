// The ONNX executor's lowering table: each IR op's forward and backward emission (lower/<op>.ts), one entry per
// op. Exhaustive over OpNode['op']: an op without an entry is a type error here. The training/evaluation graphs
// (graphs.ts) and the decode graph (decode-graph.ts) are modes of one lowering over this table; decoding replaces
// two entries (attention reads and extends a KV cache, linears read adapters as inputs).

import type { OpNode } from '../../../model/ir.ts';
import type { LowerCtx } from './lower/context.ts';
import { embeddingBackward, embeddingForward } from './lower/embedding.ts';
import { rmsnormBackward, rmsnormForward } from './lower/rmsnorm.ts';
import { layernormBackward, layernormForward } from './lower/layernorm.ts';
import { linearBackward, linearForward } from './lower/linear.ts';
import { ropeBackward, ropeForward } from './lower/rope.ts';
import { attentionBackward, attentionForward } from './lower/attention.ts';
import { addBackward, addForward, geluBackward, geluErfBackward, geluErfForward, geluForward, reluBackward, reluForward, swigluBackward, swigluForward } from './lower/elementwise.ts';
import { positionEmbeddingBackward, positionEmbeddingForward, tokenTypeEmbeddingBackward, tokenTypeEmbeddingForward } from './lower/position-embedding.ts';
import { sliceBackward, sliceForward } from './lower/slice.ts';
import { firstTokenBackward, firstTokenForward } from './lower/pooling.ts';
import { gegluBackward, gegluForward, softcapBackward, softcapForward } from './lower/gated.ts';
import { adapterFusionBackward, adapterFusionForward, adapterMixBackward, adapterMixForward } from './lower/adapter-fusion.ts';

export type Op = OpNode['op'];
export type NodeOf<K extends Op> = Extract<OpNode, { op: K }>;

/** Linears reading one input with frozen weights, run as one Gemm on weights stacked along OC (fuseLinearGroups). */
export interface LinearGroup {
  members: NodeOf<'linear'>[];
  W: string; // (ΣOC, IC)
  b: string | null;
}

/** What a whole-program lowering adds to an op's context: widths, fused linear groups, gradients so far. */
export interface GraphLowerCtx extends LowerCtx {
  width(activation: string): number;
  fusedGroup(module: string): LinearGroup | undefined;
  /** The group's base product for this member (the group's Gemm is emitted at its first member). */
  fusedBase(module: string): string | undefined;
  /** The gradient accumulated so far for a tensor. */
  grad(name: string): string | undefined;
}

export interface OnnxLowering<K extends Op> {
  forward(c: GraphLowerCtx, n: NodeOf<K>, idx: number): void;
  backward(c: GraphLowerCtx, n: NodeOf<K>, idx: number, dout: string): void;
}

export const ONNX_LOWERING: { [K in Op]: OnnxLowering<K> } = {
  embedding: { forward: (c, n) => embeddingForward(c, n), backward: (c, n, _i, dout) => embeddingBackward(c, n, dout) },
  position_embedding: { forward: (c, n) => positionEmbeddingForward(c, n), backward: (c, n, _i, dout) => positionEmbeddingBackward(c, n, dout) },
  token_type_embedding: { forward: (c, n) => tokenTypeEmbeddingForward(c, n), backward: (c, n, _i, dout) => tokenTypeEmbeddingBackward(c, n, dout) },
  first_token: { forward: (c, n) => firstTokenForward(c, n), backward: (c, n, _i, dout) => firstTokenBackward(c, n, dout) },
  slice: { forward: (c, n) => sliceForward(c, n), backward: (c, n, _i, dout) => sliceBackward(c, n, dout) },
  geglu: { forward: gegluForward, backward: gegluBackward },
  softcap: { forward: softcapForward, backward: softcapBackward },
  rmsnorm: {
    forward: (c, n, idx) => rmsnormForward(c, n, idx, c.width(n.out)),
    backward: (c, n, idx, dout) => rmsnormBackward(c, n, idx, dout, c.width(n.out)),
  },
  layernorm: { forward: layernormForward, backward: layernormBackward },
  linear: {
    forward: (c, n, idx) => linearForward(c, n, idx, c.fusedBase(n.module)),
    backward(c, n, idx, dout) {
      const grp = c.fusedGroup(n.module);
      linearBackward(c, n, idx, dout, !!grp);
      // the group's first member comes last in reverse order: every member's output gradient is known now
      if (!grp || grp.members[0] !== n || !c.needsGrad(n.x)) return;
      const { g } = c;
      const douts = grp.members.map((m) => c.grad(m.out));
      if (douts.every((d) => d)) return c.addGrad(n.x, g.matmul(g.op('Concat', douts as string[], { axis: 1 }), grp.W));
      let off = 0;
      const terms: string[] = [];
      grp.members.forEach((m, i) => {
        const rows = g.op('Slice', [grp.W, g.i64([off]), g.i64([off + m.outF]), g.i64([0])]);
        if (douts[i]) terms.push(g.matmul(douts[i]!, rows));
        off += m.outF;
      });
      for (const t of terms) c.addGrad(n.x, t);
    },
  },
  rope: { forward: (c, n) => ropeForward(c, n), backward: (c, n, _i, dout) => ropeBackward(c, n, dout) },
  attention: { forward: attentionForward, backward: attentionBackward },
  swiglu: { forward: swigluForward, backward: swigluBackward },
  gelu_tanh: { forward: geluForward, backward: geluBackward },
  gelu_erf: { forward: geluErfForward, backward: geluErfBackward },
  relu: { forward: (c, n) => reluForward(c, n), backward: (c, n, _i, dout) => reluBackward(c, n, dout) },
  add: { forward: (c, n) => addForward(c, n), backward: (c, n, _i, dout) => addBackward(c, n, dout) },
  adapter_mix: { forward: adapterMixForward, backward: adapterMixBackward },
  adapter_fusion: { forward: adapterFusionForward, backward: adapterFusionBackward },
};

export type ForwardOverrides = { [K in Op]?: (c: GraphLowerCtx, n: NodeOf<K>, idx: number) => void };

/** Every node's forward, in program order, through the table (or an override: decoding's attention and linears). */
export function lowerForward(c: GraphLowerCtx, nodes: readonly OpNode[], overrides: ForwardOverrides = {}): void {
  nodes.forEach((n, idx) => {
    const f = (overrides[n.op] ?? ONNX_LOWERING[n.op].forward) as (c: GraphLowerCtx, n: OpNode, idx: number) => void;
    f(c, n, idx);
  });
}

/** A node's backward through the table. */
export function lowerBackward(c: GraphLowerCtx, n: OpNode, idx: number, dout: string): void {
  (ONNX_LOWERING[n.op].backward as (c: GraphLowerCtx, n: OpNode, idx: number, dout: string) => void)(c, n, idx, dout);
}
