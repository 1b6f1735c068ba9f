// The one reverse-mode walk every executor's backward follows (reference float64, the ONNX training graph, the
// device plan): which tensors need gradients, which nodes run backward and in what order, how many gradient
// contributions each activation receives (fan-in, summed), and — with gradient checkpointing — where a block's
// forward is replayed before its first backward node. Executors only say how one node's backward is computed.

import type { Block, OpNode, Program } from '../model/ir.ts';
import { nodeInputs, paramMap } from '../model/ir.ts';

/** Tensors that depend on a trainable parameter (trainable params included): only these get gradients. */
export function requiresGrad(p: Program): Set<string> {
  const params = paramMap(p);
  const req = new Set<string>(p.params.filter((d) => d.trainable).map((d) => d.name));
  for (const n of p.nodes) if (nodeInputs(n).some((t) => req.has(t))) req.add(n.out);
  for (const d of params.values()) if (!d.trainable) req.delete(d.name);
  return req;
}

export type BackwardVisit =
  /** Replay the block's forward (its input is kept; everything inside was dropped after the forward). */
  | { kind: 'recompute'; block: Block; index: number }
  /** Run node `idx`'s backward: its output's gradient is complete (every consumer has contributed). */
  | { kind: 'node'; idx: number; node: OpNode };

export interface BackwardWalk {
  /** Tensors (activations and trainable params) that need a gradient. */
  needGrad: Set<string>;
  /** Whether an activation (not a param) receives a gradient from some backward node. */
  wantsActivation(name: string): boolean;
  /** Activation → number of gradient contributions it receives in this walk (> 1: summed where it fans out). */
  fanIn: Map<string, number>;
  /** The backward in order: reverse node order, nodes whose output carries a gradient, with recompute markers. */
  visits: BackwardVisit[];
}

export interface WalkOptions {
  /** The activation whose gradient seeds the walk (default: the program's logits); none when it needs no gradient. */
  root?: string | null;
  /** Only nodes before this index run backward (the device plan fuses the LM head with the loss). */
  before?: number;
  /** Replay each Program.blocks entry's forward before its first backward node. */
  checkpointing?: boolean;
}

/** The reverse walk of a program from its loss (or `root`): what runs backward, in what order, with what fan-in. */
export function backwardWalk(p: Program, o: WalkOptions = {}): BackwardWalk {
  const needGrad = requiresGrad(p);
  const params = paramMap(p);
  const end = o.before ?? p.nodes.length;
  const root = o.root === undefined ? p.logits : o.root;
  const wantsActivation = (name: string) => needGrad.has(name) && !params.has(name);
  // a node's output carries a gradient when it is the root or some node run backward contributes to it
  const carries = new Set<string>(root !== null && needGrad.has(root) ? [root] : []);
  const fanIn = new Map<string, number>();
  const visits: BackwardVisit[] = [];
  const blockOf = new Map<number, number>();
  if (o.checkpointing) p.blocks.forEach((b, i) => { for (let j = b.start; j < b.end; j++) blockOf.set(j, i); });
  const replayed = new Set<number>();
  for (let idx = end - 1; idx >= 0; idx--) {
    const n = p.nodes[idx];
    if (!carries.has(n.out)) continue; // nothing downstream depends on a trainable
    const b = blockOf.get(idx);
    if (b !== undefined && !replayed.has(b)) {
      replayed.add(b);
      visits.push({ kind: 'recompute', block: p.blocks![b], index: b });
    }
    visits.push({ kind: 'node', idx, node: n });
    for (const t of nodeInputs(n))
      if (wantsActivation(t)) {
        carries.add(t);
        fanIn.set(t, (fanIn.get(t) ?? 0) + 1);
      }
  }
  return { needGrad, wantsActivation, fanIn, visits };
}

/**
 * Activation gradients as an executor represents them (arrays, graph values, plan tensors), summed where an
 * activation fans out: the first contribution is kept as is, later ones are combined with `sum`.
 */
export class GradientTape<G> {
  private readonly grads = new Map<string, G>();
  constructor(private readonly sum: (current: G, more: G) => G, private readonly accepts: (name: string) => boolean = () => true) {}
  get(name: string): G | undefined {
    return this.grads.get(name);
  }
  has(name: string): boolean {
    return this.grads.has(name);
  }
  set(name: string, g: G): void {
    this.grads.set(name, g);
  }
  add(name: string, g: G): void {
    if (!this.accepts(name)) return;
    const cur = this.grads.get(name);
    this.grads.set(name, cur === undefined ? g : this.sum(cur, g));
  }
}
