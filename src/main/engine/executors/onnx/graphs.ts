// Lowers a Program to ONNX graphs: the training micro-step (forward + backward, gradients added into a flat
// accumulator), the forward-only evaluation graph (per-sequence NLL, optionally logits), and the optimizer update
// (global-norm clipping + AdamW) over flat vectors. Frozen weights are initializers; trainables arrive as one flat
// vector each run (cheap for LoRA) and are sliced apart in the graph.

import type { ParamDecl, Program } from '../../../model/ir.ts';
import { nodeInputs } from '../../../model/ir.ts';
import { backwardWalk, GradientTape } from '../../autodiff.ts';
import { DataType, type ModelDef } from './proto.ts';
import { GraphBuilder, floatBytes, type Elem } from './builder.ts';
import type { BatchValues } from './lower/context.ts';
import { fuseLinearGroups } from './lower/linear.ts';
import { crossEntropyBackward, crossEntropyForward, headLossInputGrad } from './lower/cross-entropy.ts';
import { taskLossForward } from './lower/task-loss.ts';
import { nf4Initializers, type Nf4Values } from './lower/nf4-linear.ts';
import { isNf4, type Nf4Tensor } from '../../quant/nf4.ts';
import { lowerBackward, lowerForward, ONNX_LOWERING, type GraphLowerCtx, type LinearGroup } from './lowering.ts';
import { trainableLayout } from '../../trainables.ts';
import type { WeightFile } from './weight-file.ts';

/** Query heads per KV head; the attention bias input is tiled by it. */
export function groupSize(p: Program): number {
  const gs = new Set(p.nodes.flatMap((n) => (n.op === 'attention' ? [n.NH / n.NKV] : [])));
  if (gs.size > 1) throw new Error(`ONNX executor: attention layers with different head groupings (${[...gs].join(', ')}) are not supported yet`);
  return gs.size ? [...gs][0] : 1;
}

export const dropInputName = (module: string) => `drop:${module}`;
export const biasInputName = (window: number | null, causal = true) =>
  !causal ? 'attn_bias_bidir' : window === null ? 'attn_bias' : `attn_bias_w${window}`;

export const POSITION_IDS = 'position_ids';
/** The labelled rows (M) of a training step whose head runs on them alone (labelledRowsOnly); int64. */
export const LABEL_ROWS = 'label_rows';
export const TOKEN_TYPE_IDS = 'token_type_ids';

export type GraphMode = 'train' | 'eval' | 'logits';

export interface BuildOptions {
  elem: Elem;
  mode: GraphMode;
  /** Frozen weight data by param name (any float array; converted to elem), or an Nf4Tensor for a quant: 'nf4' param. */
  weight(name: string): ArrayLike<number> | Nf4Tensor;
  /** Float frozen weights go here as external data, shared with the other graphs built with the same file. */
  weightFile?: WeightFile;
  /**
   * Which frozen float tensors onnxruntime may pre-pack (by frozenTensors key; the session turns pre-packing on):
   * the others are declared graph inputs too (overridable initializers), so no GEMM sees them as constant. Absent: every
   * frozen tensor is read directly (pre-packing is then all or nothing, as the session sets it).
   */
  prepacked?: (key: string) => boolean;
  /** Evaluation graphs: also output each adapter_fusion node's attention weights α (N, M) as fusionAlphaName(idx). */
  fusionAlpha?: boolean;
}

/** The output holding an adapter_fusion node's attention weights (BuildOptions.fusionAlpha). */
export const fusionAlphaName = (idx: number) => `fusion_alpha.${idx}`;

/**
 * The token and rope-table inputs every graph of a Program declares (training step, evaluation, decode): ids
 * flattened to N = B·T rows, their (B, T) shape, and the rope tables as (N, 1, HD) for broadcasting over heads.
 */
export function declareTokenInputs(g: GraphBuilder, p: Program) {
  const ft = g.ft;
  const inputIds = g.input('input_ids', DataType.INT64, ['B', 'T']);
  const ids = g.reshape(inputIds, [-1]);
  const shapeBT = g.op('Shape', [inputIds]);
  const table = (name: string, headDim: number) => g.op('Unsqueeze', [g.input(name, ft, ['N', headDim]), g.i64([1])]);
  const cos = p.rope ? table('rope_cos', p.rope.headDim) : null;
  const sin = p.rope ? table('rope_sin', p.rope.headDim) : null;
  const cosLocal = p.ropeLocal ? table('rope_cos_local', p.ropeLocal.headDim) : null;
  const sinLocal = p.ropeLocal ? table('rope_sin_local', p.ropeLocal.headDim) : null;
  return { ids, shapeBT, cos, sin, cosLocal, sinLocal };
}

export interface FrozenWeights {
  values: Map<string, string>; // param name → graph value (initializer), filled further by the caller
  nf4: Map<string, Nf4Values>;
  groups: Map<string, LinearGroup>; // linear module → its fused group
}

export interface FrozenOptions {
  skip(d: ParamDecl): boolean;
  fusable(name: string | null): boolean;
}

/** One frozen float tensor of a graph: `key` holds `names` stacked along the first axis (one name unless fused). */
export interface FrozenTensor {
  key: string;
  dims: number[];
  names: string[];
}

/**
 * Which frozen tensors a graph holds: linears sharing an input (q/k/v, gate/up) whose weights are `fusable`, stacked
 * along OC into one tensor per group (weight, and bias when they have one); then every other param `skip` does not
 * take. The graph builders and the CPU session's weight file both follow this list, so they agree on every key.
 */
export function frozenTensors(p: Program, o: FrozenOptions): { stacks: { members: LinearGroup['members']; weight: FrozenTensor; bias: FrozenTensor | null }[]; singles: ParamDecl[] } {
  const stacks = [];
  const fused = new Set<string>();
  for (const members of fuseLinearGroups(p.nodes, (n) => o.fusable(n.weight) && o.fusable(n.bias))) {
    const IC = members[0].inF;
    const OC = members.reduce((s, m) => s + m.outF, 0);
    const key = members.map((m) => m.module).join('+');
    for (const m of members) for (const nm of [m.weight, m.bias]) if (nm) fused.add(nm);
    stacks.push({
      members,
      weight: { key: `${key}.weight`, dims: [OC, IC], names: members.map((m) => m.weight) },
      bias: members[0].bias ? { key: `${key}.bias`, dims: [OC], names: members.map((m) => m.bias!) } : null,
    });
  }
  return { stacks, singles: p.params.filter((d) => !o.skip(d) && !fused.has(d.name)) };
}

/** The values of a stacked tensor, in order, as one array of the element type. */
export function stackValues(t: FrozenTensor, parts: ArrayLike<number>[], elem: Elem): Float32Array | Float64Array {
  const size = t.dims.reduce((a, b) => a * b, 1);
  const out = elem === 'float64' ? new Float64Array(size) : new Float32Array(size);
  let off = 0;
  for (const w of parts) {
    out.set(w, off);
    off += w.length;
  }
  return out;
}

/**
 * Frozen weights as initializers (frozenTensors' list); NF4 weights become their code tables. Params `skip` accepts
 * are left to the caller (trainables sliced from a flat input, adapters fed per run). With a weight file on the
 * builder, a tensor already stored there is not asked of `weight` again (the caller may no longer hold it).
 */
/**
 * A frozen tensor also declared a graph input of its own name: an overridable initializer (never fed, so its stored
 * value is used, read in place with no copy), which onnxruntime does not treat as a constant — the GEMMs reading it
 * pack it per call instead of keeping a packed copy. (A Reshape through a runtime shape, as the half base uses, would
 * also hide it but copies the weight on every run: +340 MB on 8 SmolLM2 layers.)
 */
function overridable(g: GraphBuilder, t: string, dims: number[]): string {
  g.input(t, g.ft, dims);
  return t;
}

export function declareFrozenWeights(
  g: GraphBuilder, p: Program, elem: Elem, weight: BuildOptions['weight'], o: FrozenOptions & { where: string; prepacked?: (key: string) => boolean },
): FrozenWeights {
  // with a pre-packing choice, a float32 matrix it leaves out becomes overridable (a half one is widened per reader anyway)
  const read = (t: string, dims: number[]) =>
    o.prepacked && dims.length === 2 && !g.isHalf(t) && !o.prepacked(t) ? overridable(g, t, dims) : t;
  const floatWeight = (name: string) => {
    const w = weight(name);
    if (isNf4(w)) throw new Error(`${o.where}: ${name} is NF4 where a float weight is needed`);
    return w;
  };
  const { stacks, singles } = frozenTensors(p, o);
  const groups = new Map<string, LinearGroup>();
  for (const { members, weight: wt, bias: bt } of stacks) {
    const stacked = (t: FrozenTensor) => read(g.storedFloatInit(t.key, t.dims, () => stackValues(t, t.names.map(floatWeight), elem)), t.dims);
    const W = stacked(wt);
    const b = bt ? stacked(bt) : null;
    for (const m of members) groups.set(m.module, { members, W, b });
  }
  const values = new Map<string, string>();
  const nf4 = new Map<string, Nf4Values>();
  for (const d of singles) {
    const w = g.weightFile?.get(d.name) ? null : weight(d.name);
    if (w && isNf4(w)) {
      if (d.quant !== 'nf4') throw new Error(`${o.where}: ${d.name} arrived as NF4 but the program does not mark it quantized`);
      nf4.set(d.name, nf4Initializers(g, d.name, w));
    } else values.set(d.name, read(g.storedFloatInit(d.name, d.shape, () => w!), d.shape));
  }
  return { values, nf4, groups };
}

/** How many times each tensor is read by a node. */
export function tensorUses(p: Program): Map<string, number> {
  const uses = new Map<string, number>();
  for (const n of p.nodes) for (const t of nodeInputs(n)) uses.set(t, (uses.get(t) ?? 0) + 1);
  return uses;
}

/** The lowering context of a whole program: values, widths, fused groups (their Gemm emitted at first use). */
export function graphLowerCtx(
  g: GraphBuilder, p: Program, batch: BatchValues, w: FrozenWeights, where: string,
  grads: Pick<GraphLowerCtx, 'needsGrad' | 'addGrad' | 'grad'>,
): GraphLowerCtx {
  const baseOut = new Map<string, string>();
  const ctx: GraphLowerCtx = {
    g, batch, saved: new Map(), ...grads,
    nf4: (name) => w.nf4.get(name) ?? null,
    value(name) {
      const v = w.values.get(name);
      if (!v) throw new Error(`${where}: tensor ${name} used before it is defined`);
      return v;
    },
    setValue: (name, v) => void w.values.set(name, v),
    width: (name) => p.widths.get(name)!,
    fusedGroup: (module) => w.groups.get(module),
    fusedBase(module) {
      const grp = w.groups.get(module);
      if (!grp) return undefined;
      if (!baseOut.has(module)) {
        const y = g.op('Gemm', [ctx.value(grp.members[0].x), grp.W, ...(grp.b ? [grp.b] : [])], { transB: 1 });
        const parts = g.node('Split', [y, g.i64(grp.members.map((m) => m.outF))], { axis: 1 }, grp.members.length);
        grp.members.forEach((m, i) => baseOut.set(m.module, parts[i]));
      }
      return baseOut.get(module);
    },
  };
  return ctx;
}

/**
 * The node producing the logits when cross-entropy can hand its input gradient over directly (lower/cross-entropy.ts
 * headLossInputGrad): a plain linear whose weight is frozen float32/64 (no LoRA, no bias, not NF4) and whose input
 * needs a gradient. Its dlogits (N, V) is then never built; null: the ordinary path (dlogits, then the head's backward).
 */
export function lossHead(p: Program, needGrad: Set<string>): { idx: number; node: Extract<Program['nodes'][number], { op: 'linear' }> } | null {
  if (p.loss) return null;
  const idx = p.nodes.findIndex((n) => n.out === p.logits);
  const n = p.nodes[idx];
  if (!n || n.op !== 'linear' || n.lora || n.bias || needGrad.has(n.weight) || !needGrad.has(n.x)) return null;
  if (p.params.find((d) => d.name === n.weight)?.quant === 'nf4') return null;
  return { idx, node: n };
}

/**
 * Whether the training step's head runs on the labelled rows alone (LABEL_ROWS; label_idx and label_valid then one
 * per labelled row): where the loss hands the head's input gradient over directly (lossHead). A prompt the data
 * masks (label −100) then costs no head work: the head is a quarter of a Qwen2.5-0.5B step's FLOPs at seq 256, and
 * its (N, V) logits, log-probabilities and probabilities the largest tensors the step holds.
 */
export function labelledRowsOnly(p: Program): boolean {
  return lossHead(p, backwardWalk(p).needGrad) !== null;
}

/** The head's forward on the labelled rows: Gather(x, rows)·Wᵀ, (M, V) logits. */
function headOnRows(c: GraphLowerCtx, n: Extract<Program['nodes'][number], { op: 'linear' }>, rows: string): void {
  const { g } = c;
  c.setValue(n.out, g.op('Gemm', [g.op('Gather', [c.value(n.x), rows], { axis: 0 }), c.value(n.weight)], { transB: 1 }));
}

/** The (M, C) input gradient of the labelled rows put back in place in an (N, C) gradient of x, zero elsewhere. */
function scatterRows(c: GraphLowerCtx, x: string, rows: string, dRows: string): string {
  const { g } = c;
  const zero = { name: '', type: g.ft, dims: [1], raw: floatBytes([0], g.elem) };
  const zeros = g.op('ConstantOfShape', [g.op('Shape', [x])], { value: { tensor: zero } });
  return g.op('ScatterND', [zeros, g.op('Unsqueeze', [rows, g.i64([1])]), dRows]);
}

/** The frozen tensors of the training / evaluation / logits graphs: every non-trainable param; single-use, float ones fused. */
export function stepGraphFrozen(p: Program): FrozenOptions {
  const uses = tensorUses(p);
  const trainableNames = new Set(p.params.filter((d) => d.trainable).map((d) => d.name));
  const quantized = new Set(p.params.filter((d) => d.quant === 'nf4').map((d) => d.name));
  return {
    skip: (d) => d.trainable,
    fusable: (t) => t === null || (!trainableNames.has(t) && !quantized.has(t) && uses.get(t) === 1),
  };
}

export function buildStepGraph(p: Program, opts: BuildOptions): ModelDef {
  const g = new GraphBuilder(opts.elem, opts.weightFile);
  const ft = g.ft;
  const { slots, total } = trainableLayout(p);
  const train = opts.mode === 'train';
  groupSize(p); // refuse mixed head groupings up front: the bias input is tiled by one G

  // batch inputs
  const { ids, shapeBT, cos, sin, cosLocal, sinLocal } = declareTokenInputs(g, p);
  let positions: string | null = null;
  let tokenTypes: string | null = null;
  const biases = new Map<string, string>();
  // a training step whose loss hands its input gradient over directly takes the labelled rows: label_idx and
  // label_valid are then (M, 1), one per labelled row (labelledRowsOnly)
  const walk = backwardWalk(p);
  const head = train ? lossHead(p, walk.needGrad) : null;
  const rows = head ? g.input(LABEL_ROWS, DataType.INT64, ['M']) : null;
  const labelIdx = g.input('label_idx', DataType.INT64, [head ? 'M' : 'N', 1]);
  const labelValid = g.input('label_valid', ft, [head ? 'M' : 'N', 1]);
  const drops = new Map<string, string>();
  if (train)
    for (const n of p.nodes)
      if (n.op === 'linear' && n.lora && n.lora.dropout > 0) drops.set(n.module, g.input(dropInputName(n.module), DataType.BOOL, ['N', n.inF]));
  const batch: BatchValues = {
    ids, shapeBT, cos, sin, cosLocal, sinLocal, labelIdx, labelValid,
    positions: () => (positions ??= g.input(POSITION_IDS, DataType.INT64, ['N'])),
    tokenTypes: () => (tokenTypes ??= g.input(TOKEN_TYPE_IDS, DataType.INT64, ['N'])),
    bias(window, causal = true) {
      const key = biasInputName(window, causal);
      if (!biases.has(key)) biases.set(key, g.input(key, ft, ['B', 1, 'GT', 'T']));
      return biases.get(key)!;
    },
    dropMask: (m) => drops.get(m) ?? null,
  };

  // parameters: frozen → initializers (q/k/v and gate/up stacked); trainable → slices of the flat input
  const trainables = total > 0 ? g.input('trainables', ft, [total]) : null;
  const sliced = slots.map((sl) => [sl.name, g.reshape(g.op('Slice', [trainables!, g.i64([sl.offset]), g.i64([sl.offset + sl.size])]), sl.shape)] as const);
  const weights = declareFrozenWeights(g, p, opts.elem, opts.weight, { where: 'ONNX lowering', ...stepGraphFrozen(p), prepacked: opts.prepacked });
  for (const [name, v] of sliced) weights.values.set(name, v);

  const grads = new GradientTape<string>((cur, v) => g.add(cur, v)); // activations and params alike
  const ctx = graphLowerCtx(g, p, batch, weights, 'ONNX lowering', {
    needsGrad: (name) => train && walk.needGrad.has(name),
    addGrad: (name, v) => grads.add(name, v),
    grad: (name) => grads.get(name),
  });
  lowerForward(ctx, p.nodes, head && rows ? { linear: (c, n, idx) => (idx === head.idx ? headOnRows(c, n, rows) : ONNX_LOWERING.linear.forward(c, n, idx)) } : {});
  const logits = ctx.value(p.logits);
  const task = p.loss ? taskLossForward(ctx, p.loss, logits) : null;
  const ce = task ? null : crossEntropyForward(ctx, logits);

  if (train) {
    g.output('loss_sum', task?.lossSum ?? ce!.lossSum, ft, []);
    if (head && rows) ctx.addGrad(head.node.x, scatterRows(ctx, ctx.value(head.node.x), rows, headLossInputGrad(ctx, ce!, ctx.value(head.node.weight), head.node.inF)));
    else grads.set(p.logits, task ? task.dlogits() : crossEntropyBackward(ctx, ce!));
    for (const visit of walk.visits) {
      if (visit.kind !== 'node') continue; // no checkpointing in ONNX graphs: ORT keeps what backward reads
      const { idx, node: n } = visit;
      if (idx === head?.idx) continue; // its input gradient came with the loss's
      const dout = grads.get(n.out);
      if (!dout) throw new Error(`ONNX lowering: the backward walk reached ${n.out} but no gradient was produced for it`);
      lowerBackward(ctx, n, idx, dout);
    }
    if (trainables) {
      const flat = slots.map((s) => {
        const gr = grads.get(s.name);
        // a trainable no loss path reaches gets a zero gradient, not a missing one
        return gr ? g.reshape(gr, [-1]) : g.op('Mul', [g.op('Slice', [trainables, g.i64([s.offset]), g.i64([s.offset + s.size])]), g.scalar(0)]);
      });
      const all = flat.length === 1 ? flat[0] : g.op('Concat', flat, { axis: 0 });
      const acc = g.input('grad_acc', ft, [total]);
      g.output('grad_acc_out', g.add(acc, all), ft, [total]);
    }
  } else {
    g.output('nll_seq', task?.nllSeq ?? g.reduceSum(g.reshape(ce!.nll, shapeBT), [1], 0), ft, ['B']);
    if (opts.mode === 'logits') g.output('logits', logits, ft, ['N', p.vocab]);
    if (opts.fusionAlpha)
      p.nodes.forEach((n, idx) => {
        if (n.op === 'adapter_fusion') g.output(fusionAlphaName(idx), ctx.saved.get(idx)!.alpha, ft, ['N', n.deltas.length]);
      });
  }
  return g.model(`lora-studio-${p.family}-${opts.mode}`);
}

/**
 * AdamW over flat vectors (PyTorch's torch.optim.AdamW, decoupled decay), after averaging the accumulated
 * gradient over the trained tokens and clipping its global L2 norm as clip_grad_norm_ does
 * (coef = min(1, max_norm / (norm + 1e-6))). Inputs are scalars fed per update; clip_max = +∞ disables clipping.
 */
export function buildUpdateGraph(P: number, noDecay: ArrayLike<number>, elem: Elem): ModelDef {
  const g = new GraphBuilder(elem);
  const ft = g.ft;
  const vec = (name: string) => g.input(name, ft, [P]);
  const sc = (name: string) => g.input(name, ft, []);
  const p = vec('params'), acc = vec('grad_acc'), m = vec('m'), v = vec('v');
  const [invTokens, lr, b1, b2, eps, wd, bc1, bc2, clipMax] =
    ['inv_tokens', 'lr', 'beta1', 'beta2', 'eps', 'weight_decay', 'bias_corr1', 'bias_corr2', 'clip_max'].map(sc);
  const decayMask = g.floatInit('decay_mask', [P], Array.from(noDecay, (x) => (x ? 0 : 1)));
  const grad = g.mul(acc, invTokens);
  const norm = g.op('Sqrt', [g.op('ReduceSum', [g.mul(grad, grad)], { keepdims: 0 })]);
  const coef = g.op('Min', [g.scalar(1), g.div(clipMax, g.add(norm, g.scalar(1e-6)))]);
  const gc = g.mul(grad, coef);
  const one = g.scalar(1);
  const pDecayed = g.sub(p, g.mul(g.mul(lr, wd), g.mul(decayMask, p)));
  const m2 = g.add(g.mul(b1, m), g.mul(g.sub(one, b1), gc));
  const v2 = g.add(g.mul(b2, v), g.mul(g.sub(one, b2), g.mul(gc, gc)));
  const denom = g.add(g.op('Sqrt', [g.div(v2, bc2)]), eps);
  const p2 = g.sub(pDecayed, g.mul(lr, g.div(g.div(m2, bc1), denom)));
  g.output('params_out', p2, ft, [P]);
  g.output('m_out', m2, ft, [P]);
  g.output('v_out', v2, ft, [P]);
  g.output('grad_norm', norm, ft, []);
  return g.model('lora-studio-adamw');
}
