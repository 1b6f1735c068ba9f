// TrainingSession on the CPU: the Program (a model definition with LoRA attached) lowered to three ONNX graphs
// run by onnxruntime-node. JS holds the flat trainable vector, its gradient accumulator and the AdamW moments
// (Float32Array, or Float64Array in a float64 session). Frozen float weights are written once into the session's
// weight file (weight-file.ts), which every graph names as external data and onnxruntime maps: the base is then in
// memory once, and the caller's arrays are not kept. NF4 codes (small) stay inline, kept for graphs built later.

import type { ParamDecl, Program } from '../../../model/ir.ts';
import type { Batch, EvalResult, MicroStepOptions, MicroStepResult, TensorMap, TrainingSession, UpdateOptions, UpdateResult } from '../../session.ts';
import { dropoutKeeps, prepareBatch, type BatchInputs } from '../../batch-inputs.ts';
import { IGNORE_INDEX } from '../../ops/cross-entropy.ts';
import type { Elem } from './builder.ts';
import { biasInputName, buildStepGraph, buildUpdateGraph, dropInputName, fusionAlphaName, groupSize, LABEL_ROWS, labelledRowsOnly, stepGraphFrozen, type GraphMode } from './graphs.ts';
import { TrainableLayout, type TrainableSlot } from '../../trainables.ts';
import { OrtGraph, type FeedTensor } from './ort.ts';
import { POSITION_IDS, TOKEN_TYPE_IDS } from './graphs.ts';
import { NF4_BYTE_MASK_INPUT } from './lower/nf4-linear.ts';
import { taskLossFeeds } from './lower/task-loss.ts';
import { taskCounts } from '../../ops/task-loss.ts';
import { isNf4, nf4StorageBytes, type Nf4Tensor } from '../../quant/nf4.ts';
import { storeFrozen, WeightFile, type BaseDtype } from './weight-file.ts';

export interface CpuSessionOptions {
  program: Program;
  /** Base weights by HF name (float32 or float64; NF4 for params marked quant: 'nf4'). Trainable base params
   *  (biases under bias=all, everything in full fine-tuning) start from here. Read while the session is created;
   *  it keeps no reference to the float ones (see memory()), so the caller may drop or reuse them. */
  weights: WeightSource;
  seed: number;
  elem?: Elem; // float32 (default) or float64 for tight checks
  threads?: number;
  /** ORT profiling of the training graph (bench/profile-step.ts). */
  profilePrefix?: string;
  /**
   * Which frozen weights the training graph lets onnxruntime pre-pack (ort.ts OrtOptions.prepack): true all, false none,
   * or those whose frozenTensors key the function accepts (graphs.ts BuildOptions.prepacked). A packed copy saves the
   * GEMMs reading it the packing they otherwise do on every call; a weight every reader packs has its mapped original
   * released, so it costs one more copy of it, the tied head (also read by Gathers) two. Evaluation and logits graphs
   * never pre-pack. Default false: measured on the SmolLM2-135M shape (bench A/B, load 6), packing every weight cut
   * CPU time 11% but not the step's wall time (+610 MiB peak), and packing the head alone changed neither.
   */
  prepack?: boolean | ((key: string) => boolean);
  /** How the frozen float base is stored (weight-file.ts): f32 (default, exact) or f16/bf16, widened per use. */
  baseDtype?: BaseDtype;
  /** Half weights above this many values are widened block by block (weight-file.ts; tests set it small). */
  halfChunkElems?: number;
}

type Vec = Float32Array | Float64Array;

/** Base weights all at once, or one at a time as the session asks for them (a checkpoint read on demand). */
export type WeightSource = Map<string, ArrayLike<number> | Nf4Tensor> | ((name: string) => Promise<ArrayLike<number> | Nf4Tensor>);

export class CpuTrainingSession implements TrainingSession {
  readonly supportsPacking = true; // segment ids become the attention bias and restart the positions
  readonly slots: TrainableSlot[];
  readonly total: number;
  private params: Vec;
  private gradAcc: Vec;
  private m: Vec;
  private v: Vec;
  private step = 0; // optimizer updates done
  private micro = 0; // micro-steps since the last update
  private tokensSinceUpdate = 0;
  private graphs = new Map<GraphMode | 'update' | 'alpha', Promise<OrtGraph>>();
  private readonly G: number;
  /** The training graph's head runs on the labelled rows alone (graphs.ts labelledRowsOnly). */
  private readonly rowsOnly: boolean;
  private readonly layout: TrainableLayout;
  private readonly weightFile: WeightFile;

  /** NF4 weights (codes + scales stay inline in each graph, so graphs built later need them); floats are in the file. */
  private kept = new Map<string, Nf4Tensor>();

  private constructor(readonly program: Program, initial: Map<string, ArrayLike<number> | Nf4Tensor>, readonly seed: number, readonly elem: Elem, private readonly threads?: number, private readonly profilePrefix?: string, private readonly prepack: boolean | ((key: string) => boolean) = false, baseDtype: BaseDtype = 'f32', halfChunkElems?: number) {
    this.weightFile = new WeightFile({ dtype: baseDtype, chunkElems: halfChunkElems });
    this.layout = new TrainableLayout(program);
    this.slots = this.layout.slots;
    this.total = this.layout.total;
    const alloc = () => (elem === 'float64' ? new Float64Array(this.total) : new Float32Array(this.total));
    this.params = alloc();
    this.gradAcc = alloc();
    this.m = alloc();
    this.v = alloc();
    this.G = groupSize(program);
    this.rowsOnly = labelledRowsOnly(program);
    this.layout.initialize(this.params, initial, seed, 'CPU session');
  }

  static async create(o: CpuSessionOptions): Promise<CpuTrainingSession> {
    const source = o.weights;
    const read = async (d: ParamDecl) => {
      const w = typeof source === 'function' ? await source(d.name) : source.get(d.name);
      const size = d.shape.reduce((a, b) => a * b, 1);
      if (!w) throw new Error(`CPU session: missing base weight ${d.name} (shape ${JSON.stringify(d.shape)})`);
      const length = isNf4(w) ? w.shape[0] * w.shape[1] : w.length;
      if (length !== size) throw new Error(`CPU session: base weight ${d.name} has ${length} values; shape ${JSON.stringify(d.shape)} needs ${size}`);
      return w;
    };
    // trainable base params (biases under bias=all, full fine-tuning) start the flat trainable vector
    const initial = new Map<string, ArrayLike<number> | Nf4Tensor>();
    for (const d of o.program.params) if (d.trainable && !d.init) initial.set(d.name, await read(d));
    const s = new CpuTrainingSession(o.program, initial, o.seed, o.elem ?? 'float32', o.threads, o.profilePrefix, o.prepack, o.baseDtype, o.halfChunkElems);
    try {
      await s.fillWeightFile(read);
      await s.graph('train'); // fail early on a graph ORT refuses
    } catch (e) {
      await s.dispose();
      throw e;
    }
    return s;
  }

  /**
   * Every frozen float tensor of the step graphs into the weight file, one at a time (a fused group's members read,
   * stacked, written and dropped before the next), so JavaScript never holds the whole base when the source reads
   * on demand; NF4 weights are kept for the graphs.
   */
  private async fillWeightFile(read: (d: ParamDecl) => Promise<ArrayLike<number> | Nf4Tensor>): Promise<void> {
    this.kept = await storeFrozen(this.weightFile, this.program, stepGraphFrozen(this.program), read, this.elem, 'CPU session');
  }

  /**
   * Where the frozen base is held: bytes in the weight file (mapped by onnxruntime, shared by the graphs) and
   * bytes of weights this session still references from JavaScript (only NF4 codes and scales, which stay inline).
   */
  memory(): { weightFileBytes: number; jsWeightBytes: number; baseDtype: BaseDtype } {
    let js = 0;
    for (const w of this.kept.values()) js += nf4StorageBytes(w);
    return { weightFileBytes: this.weightFile.storedBytes, jsWeightBytes: js, baseDtype: this.weightFile.storedDtype(this.elem) };
  }

  private graph(mode: GraphMode | 'update' | 'alpha'): Promise<OrtGraph> {
    let g = this.graphs.get(mode);
    if (!g) {
      // float64 graphs skip ORT's fusions: several fused kernels (QuickGelu, …) exist for float32 only
      const opts = {
        threads: this.threads,
        optimization: this.elem === 'float64' ? ('basic' as const) : ('all' as const),
        profilePrefix: mode === 'train' ? this.profilePrefix : undefined,
        weightDir: this.weightFile.dir,
        prepack: mode === 'train' && this.prepack !== false,
        memPattern: false,
      };
      if (mode === 'update') {
        g = OrtGraph.create(buildUpdateGraph(this.total, this.layout.noDecayMask(), this.elem), opts);
      } else {
        const weight = (n: string) => {
          const w = this.kept.get(n);
          if (!w) throw new Error(`CPU session: base weight ${n} is neither in the weight file nor kept (a ${mode} graph needs it)`);
          return w;
        };
        // 'alpha': the evaluation graph that also outputs AdapterFusion's attention weights
        const step = mode === 'alpha' ? { mode: 'eval' as const, fusionAlpha: true } : { mode };
        const prepacked = mode === 'train' && typeof this.prepack === 'function' ? this.prepack : undefined;
        g = OrtGraph.create(buildStepGraph(this.program, { elem: this.elem, ...step, weight, weightFile: this.weightFile, prepacked }), opts);
      }
      this.graphs.set(mode, g);
    }
    return g;
  }

  private vec(data: ArrayLike<number>): Vec {
    return this.elem === 'float64' ? Float64Array.from(data) : Float32Array.from(data);
  }

  private taskCounts(inp: BatchInputs): Float64Array {
    return taskCounts(this.program.loss!, inp.B, inp.T, { targets: inp.regressionTargets, starts: inp.spanStarts, ends: inp.spanEnds });
  }

  /**
   * The labelled rows of a micro-step and their labels, for a training graph whose head runs on them alone. A
   * micro-step with none (every label −100) still gives the head one row, weighted 0, so the graph's shapes hold.
   */
  private labelledRowFeeds(labels: ArrayLike<number>): Record<string, FeedTensor> {
    const rows: number[] = [];
    for (let n = 0; n < labels.length; n++) if (labels[n] !== IGNORE_INDEX) rows.push(n);
    const M = Math.max(rows.length, 1);
    const valid = this.elem === 'float64' ? new Float64Array(M) : new Float32Array(M);
    const labelIdx = new BigInt64Array(M);
    rows.forEach((n, m) => {
      labelIdx[m] = BigInt(labels[n]);
      valid[m] = 1;
    });
    return {
      [LABEL_ROWS]: { data: BigInt64Array.from(rows.length ? rows : [0], (n) => BigInt(n)), dims: [M] },
      label_idx: { data: labelIdx, dims: [M, 1] },
      label_valid: { data: valid, dims: [M, 1] },
    };
  }

  /** The batch-level feeds shared by all step graphs. */
  private feeds(inp: BatchInputs): Record<string, FeedTensor> {
    const { B, T, N } = inp;
    const labelIdx = new BigInt64Array(N);
    const valid = this.elem === 'float64' ? new Float64Array(N) : new Float32Array(N);
    for (let n = 0; n < N; n++) {
      const y = inp.labels[n];
      if (y !== IGNORE_INDEX) {
        labelIdx[n] = BigInt(y);
        valid[n] = 1;
      }
    }
    const f: Record<string, FeedTensor> = {
      input_ids: { data: BigInt64Array.from(inp.ids, (x) => BigInt(x)), dims: [B, T] },
      label_idx: { data: labelIdx, dims: [N, 1] },
      label_valid: { data: valid, dims: [N, 1] },
    };
    if (this.program.rope) {
      const HD = this.program.rope.headDim;
      f.rope_cos = { data: this.vec(inp.cos!), dims: [N, HD] };
      f.rope_sin = { data: this.vec(inp.sin!), dims: [N, HD] };
    }
    if (this.program.ropeLocal) {
      const HD = this.program.ropeLocal.headDim;
      f.rope_cos_local = { data: this.vec(inp.cosLocal!), dims: [N, HD] };
      f.rope_sin_local = { data: this.vec(inp.sinLocal!), dims: [N, HD] };
    }
    if (this.program.nodes.some((n) => n.op === 'token_type_embedding')) f[TOKEN_TYPE_IDS] = { data: BigInt64Array.from(inp.tokenTypes, (x) => BigInt(x)), dims: [N] };
    if (this.program.nodes.some((n) => n.op === 'position_embedding')) f[POSITION_IDS] = { data: BigInt64Array.from(inp.positions, (x) => BigInt(x)), dims: [N] };
    if (this.program.params.some((d) => d.quant === 'nf4')) f[NF4_BYTE_MASK_INPUT] = { data: Uint8Array.of(0xff), dims: [] };
    const G = this.G;
    const tile = (bias: Float64Array) => {
      // (B, T, T) → (B, 1, G·T, T): the G query heads of a KV head are stacked along the query axis
      const out = this.elem === 'float64' ? new Float64Array(B * G * T * T) : new Float32Array(B * G * T * T);
      for (let b = 0; b < B; b++) for (let gi = 0; gi < G; gi++) out.set(bias.subarray(b * T * T, (b + 1) * T * T), (b * G + gi) * T * T);
      return { data: out, dims: [B, 1, G * T, T] };
    };
    if (this.program.nodes.some((n) => n.op === 'attention' && n.window === null && n.causal !== false)) f[biasInputName(null)] = tile(inp.bias);
    if (inp.bidirectionalBias) f[biasInputName(null, false)] = tile(inp.bidirectionalBias);
    for (const [w, bias] of inp.windowBias) f[biasInputName(w)] = tile(bias);
    if (this.program.loss) Object.assign(f, taskLossFeeds(this.program.loss, inp, (x) => this.vec(x)));
    if (this.total > 0) f.trainables = { data: this.params, dims: [this.total] };
    return f;
  }

  async microStep(batch: Batch, options: MicroStepOptions = {}): Promise<MicroStepResult> {
    const inp = prepareBatch(this.program, batch);
    const feeds = this.feeds(inp);
    // the trainer's per-micro-step seed when given (exact resume is then its business), else our own stream
    const keeps = options.dropoutSeed !== undefined
      ? dropoutKeeps(this.program, inp.N, options.dropoutSeed, 'micro-step')
      : dropoutKeeps(this.program, inp.N, this.seed, `step ${this.step} micro ${this.micro}`);
    for (const [module, keep] of keeps) feeds[dropInputName(module)] = { data: keep, dims: [inp.N, keep.length / inp.N], bool: true };
    if (this.rowsOnly) Object.assign(feeds, this.labelledRowFeeds(inp.labels));
    feeds.grad_acc = { data: this.gradAcc, dims: [this.total] };
    const out = await (await this.graph('train')).run(feeds);
    this.gradAcc = out.grad_acc_out.data as Vec;
    const tokens = this.program.loss ? this.taskCounts(inp).reduce((a, b) => a + b, 0) : countTrained(batch.labels);
    this.micro++;
    this.tokensSinceUpdate += tokens;
    return { lossSum: Number((out.loss_sum.data as Vec)[0]), tokens };
  }

  async applyUpdate(o: UpdateOptions): Promise<UpdateResult> {
    if (this.tokensSinceUpdate === 0) throw new Error('applyUpdate: no trained tokens since the last update (every label was -100)');
    const t = this.step + 1;
    const scalar = (x: number): FeedTensor => ({ data: this.vec([x]), dims: [] });
    const vec = (data: Vec): FeedTensor => ({ data, dims: [this.total] });
    const out = await (await this.graph('update')).run({
      params: vec(this.params), grad_acc: vec(this.gradAcc), m: vec(this.m), v: vec(this.v),
      inv_tokens: scalar(1 / this.tokensSinceUpdate), lr: scalar(o.lr), beta1: scalar(o.beta1), beta2: scalar(o.beta2),
      eps: scalar(o.eps), weight_decay: scalar(o.weightDecay),
      bias_corr1: scalar(1 - o.beta1 ** t), bias_corr2: scalar(1 - o.beta2 ** t),
      clip_max: scalar(o.maxGradNorm === null ? Number.MAX_VALUE : o.maxGradNorm),
    });
    this.params = out.params_out.data as Vec;
    this.m = out.m_out.data as Vec;
    this.v = out.v_out.data as Vec;
    this.gradAcc.fill(0);
    this.step = t;
    this.micro = 0;
    this.tokensSinceUpdate = 0;
    return { gradNorm: Number((out.grad_norm.data as Vec)[0]) };
  }

  async evaluate(batch: Batch): Promise<EvalResult> {
    const inp = prepareBatch(this.program, batch);
    const out = await (await this.graph('eval')).run(this.feeds(inp));
    // a task head: 1 for each sequence with a trained target (span: either side), its nll the sequence's loss
    const tokensPerSequence = this.program.loss ? Int32Array.from(this.taskCounts(inp), (c) => (c > 0 ? 1 : 0)) : tokensPerRow(batch);
    return { nllPerSequence: Float64Array.from(out.nll_seq.data as Vec), tokensPerSequence };
  }

  /** Forward only: logits (B·T, V) and per-sequence NLL; for tests, generation-free inspection and evaluation. */
  async forward(batch: Batch): Promise<{ logits: Vec; nllPerSequence: Float64Array }> {
    const inp = prepareBatch(this.program, batch);
    const out = await (await this.graph('logits')).run(this.feeds(inp));
    return { logits: out.logits.data as Vec, nllPerSequence: Float64Array.from(out.nll_seq.data as Vec) };
  }

  /**
   * AdapterFusion's attention weights for a batch: per adapter_fusion node (by program node index) α (N, M), the
   * softmax over the adapters present there for each of the batch's B·T tokens, from the evaluation graph.
   */
  async fusionAlphas(batch: Batch): Promise<Map<number, Vec>> {
    const inp = prepareBatch(this.program, batch);
    const out = await (await this.graph('alpha')).run(this.feeds(inp));
    const alphas = new Map<number, Vec>();
    this.program.nodes.forEach((n, idx) => {
      if (n.op === 'adapter_fusion') alphas.set(idx, out[fusionAlphaName(idx)].data as Vec);
    });
    return alphas;
  }

  /** The current accumulated (un-averaged) gradient of each trainable, keyed by PEFT name. For tests. */
  getAccumulatedGradients(): TensorMap {
    return this.toMap(this.gradAcc);
  }

  private toMap(flat: Vec): TensorMap {
    return this.layout.toMap(flat);
  }
  private fromMap(t: TensorMap, what: string): Vec {
    return this.layout.fromMap(t, what, this.elem);
  }

  getTrainables(): TensorMap {
    return this.toMap(this.params);
  }
  setTrainables(tensors: TensorMap): void {
    this.params = this.fromMap(tensors, 'setTrainables');
  }
  getOptimizerState(): { step: number; m: TensorMap; v: TensorMap } {
    return { step: this.step, m: this.toMap(this.m), v: this.toMap(this.v) };
  }
  setOptimizerState(state: { step: number; m: TensorMap; v: TensorMap }): void {
    if (!Number.isInteger(state.step) || state.step < 0) throw new Error(`setOptimizerState: step must be a non-negative integer, got ${state.step}`);
    this.m = this.fromMap(state.m, 'setOptimizerState (m)');
    this.v = this.fromMap(state.v, 'setOptimizerState (v)');
    this.step = state.step;
    this.micro = 0;
    this.tokensSinceUpdate = 0;
    this.gradAcc.fill(0);
  }
  /** Ends ORT profiling of the training graph (when profilePrefix was given); the JSON file is written then. */
  async endProfiling(): Promise<void> {
    (await this.graph('train')).endProfiling();
  }

  async dispose(): Promise<void> {
    for (const g of this.graphs.values()) await (await g.catch(() => null))?.release();
    this.graphs.clear();
    this.weightFile.remove();
  }
}

function countTrained(labels: Int32Array): number {
  let n = 0;
  for (const y of labels) if (y !== IGNORE_INDEX) n++;
  return n;
}

function tokensPerRow(b: Batch): Int32Array {
  const t = new Int32Array(b.B);
  for (let i = 0; i < b.B; i++) t[i] = countTrained(b.labels.subarray(i * b.T, (i + 1) * b.T));
  return t;
}

export function createCpuTrainingSession(o: CpuSessionOptions): Promise<CpuTrainingSession> {
  return CpuTrainingSession.create(o);
}
