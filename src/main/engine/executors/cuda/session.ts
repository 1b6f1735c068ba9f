// TrainingSession on an NVIDIA GPU: the Program is lowered once (plan.ts) into train / eval / logits plans that
// the addon keeps and replays; weights, LoRA tensors, gradients and AdamW moments stay on the device. One addon call
// per micro-step; the host only sends the batch (ids, labels, mask, rope tables) and reads back per-token NLL.
// Same contract as the CPU executor (CpuTrainingSession): same trainable layout and init, same AdamW arithmetic,
// same dropout masks when `exactDropout` is on (parity tests), a device-side counter hash otherwise.

import type { Program } from '../../../model/ir.ts';
import type { Batch, EvalResult, MicroStepOptions, MicroStepResult, TensorMap, TrainingSession, UpdateOptions, UpdateResult } from '../../session.ts';
import { checkBatchFits, dropoutMasks, validateBatch } from '../../batch-inputs.ts';
import { taskCounts } from '../../ops/task-loss.ts';
import { positionsFromMask, ropeTables } from '../../ops/rope.ts';
import { IGNORE_INDEX } from '../../ops/cross-entropy.ts';
import { hashString } from '../../rng.ts';
import { dynMap, isNf4, type Nf4Tensor } from '../../quant/nf4.ts';
import { lowerProgram, type Plan } from '../plan/plan.ts';
import { TrainableLayout } from '../../trainables.ts';
import { loadAddon, type NativeAddon, type NativeBatch, type NativeSession } from './addon.ts';
import { CudaOutOfMemoryError, estimateCudaMemory, heldAsNf4, oomAdvice, type MemoryOptions } from './memory.ts';

export interface CudaSessionOptions {
  program: Program;
  /** Base weights by HF name (any float array; bf16 checkpoints widened to float32 exactly by the loader), or an
   *  Nf4Tensor for a param the program marks quant: 'nf4' (quant/program.ts), uploaded as it is. */
  weights: Map<string, ArrayLike<number> | Nf4Tensor>;
  seed: number;
  /** Largest batch size × sequence length of any micro-batch: activation slots are sized for it once. */
  capacityTokens: number;
  dtype?: 'bf16' | 'f32'; // bf16 (default) or f32 for tight parity checks
  qlora?: boolean; // quantize every linear weight but the LM head to NF4 on the device (besides program-marked ones)
  checkpointing?: boolean; // recompute each decoder layer in backward
  /** Upload the CPU executor's seeded dropout masks instead of drawing them on the device (parity tests; slow). */
  exactDropout?: boolean;
  chunkRows?: number; // LM-head rows per logits chunk
  nf4Fused?: boolean; // fused dequant-matmul kernel instead of one-weight dequant + GEMM
  addon?: NativeAddon; // injected by tests; default: the built addon
}

const MODES = { train: 0, eval: 1, logits: 2 } as const;

export class CudaTrainingSession implements TrainingSession {
  readonly supportsPacking = true;
  readonly total: number;
  private readonly layout: TrainableLayout;
  private readonly plans: Plan[];
  private readonly memory: MemoryOptions;
  private step = 0;
  private micro = 0;
  /** Rows of the token embedding table. */
  private readonly vocabulary: number;
  private tokensSinceUpdate = 0;

  private constructor(readonly program: Program, private readonly native: NativeSession, readonly options: CudaSessionOptions, plans: Plan[], memory: MemoryOptions) {
    this.layout = new TrainableLayout(program);
    const embedding = program.nodes.find((n) => n.op === 'embedding');
    this.vocabulary = (embedding && program.params.find((d) => d.name === embedding.weight)?.shape[0]) ?? program.vocab;
    this.total = this.layout.total;
    this.plans = plans;
    this.memory = memory;
  }

  static async create(o: CudaSessionOptions): Promise<CudaTrainingSession> {
    const p = o.program;
    if (!Number.isInteger(o.capacityTokens) || o.capacityTokens <= 0) throw new Error(`CUDA session: capacityTokens must be a positive integer (batch × sequence length), got ${o.capacityTokens}`);
    let addon = o.addon;
    if (!addon) {
      const loaded = loadAddon();
      if (!loaded.addon) throw new Error(`CUDA session: ${loaded.reason}`);
      addon = loaded.addon;
    }
    const probe = addon.probe();
    if (!addon.CudaSession || !probe.available) throw new Error(`CUDA session: ${probe.reason || 'no usable CUDA device'}`);
    const dtype = o.dtype ?? 'bf16';
    const memory: MemoryOptions = { dtype, capacityTokens: o.capacityTokens, qlora: o.qlora ?? false, checkpointing: o.checkpointing ?? false, chunkRows: o.chunkRows };
    const plans = (['train', 'eval', 'logits'] as const).map((mode) => lowerProgram(p, { mode, checkpointing: memory.checkpointing, chunkRows: o.chunkRows }));
    const layout = new TrainableLayout(p);
    const decay = layout.noDecayMask().map((x) => 1 - x);
    const init = new Float32Array(layout.total);
    layout.initialize(init, o.weights, o.seed, 'CUDA session');
    const nf4 = heldAsNf4(p, memory.qlora);
    const frozen = p.params.filter((d) => !d.trainable);
    for (const d of frozen) {
      const w = o.weights.get(d.name);
      const size = d.shape.reduce((a, b) => a * b, 1);
      if (!w) throw new Error(`CUDA session: missing base weight ${d.name} (shape ${JSON.stringify(d.shape)})`);
      if (isNf4(w)) {
        if (!nf4.has(d.name)) throw new Error(`CUDA session: ${d.name} arrived as NF4 but the program does not mark it quantized`);
        if (w.blockSize !== 64) throw new Error(`CUDA session: ${d.name} is NF4 with block size ${w.blockSize}; the kernels use bitsandbytes' 64`);
        if (w.shape[0] * w.shape[1] !== size) throw new Error(`CUDA session: NF4 weight ${d.name} is ${JSON.stringify(w.shape)}; shape ${JSON.stringify(d.shape)} needs ${size} values`);
      } else if (w.length !== size) throw new Error(`CUDA session: base weight ${d.name} has ${w.length} values; shape ${JSON.stringify(d.shape)} needs ${size}`);
    }
    const maxHeadDim = Math.max(0, ...p.nodes.flatMap((n) => (n.op === 'rope' ? [n.headDim] : [])));
    let native: NativeSession;
    try {
      native = new addon.CudaSession({
        dtype, capacityTokens: o.capacityTokens, maxHeadDim, nf4Fused: o.nf4Fused ?? false, hostDropout: o.exactDropout ?? false, decay, dynMap: dynMap(),
        weights: frozen.map((d) => ({ name: d.name, shape: d.shape, nf4: nf4.has(d.name) })),
        plans,
      });
      frozen.forEach((d, i) => {
        const w = o.weights.get(d.name)!;
        if (!isNf4(w)) native.uploadWeight(i, w instanceof Float32Array ? w : Float32Array.from(w)); // NF4-held ones are quantized on the device
        else if (w.double) native.uploadNf4(i, { n: w.shape[0] * w.shape[1], codes: w.codes, qabsmax: w.double.qabsmax, absmax2: w.double.absmax2, offset: w.double.offset });
        else native.uploadNf4(i, { n: w.shape[0] * w.shape[1], codes: w.codes, absmax: w.absmax });
      });
      native.setTrainables(init);
    } catch (e) {
      throw translate(e, p, memory);
    }
    return new CudaTrainingSession(p, native, o, plans, memory);
  }

  /** Device bytes this session allocated, and the estimate it was planned with. */
  memoryReport(): { allocated: number; peak: number; estimate: ReturnType<typeof estimateCudaMemory> } {
    return { allocated: this.native.deviceBytes(), peak: this.native.peakBytes(), estimate: estimateCudaMemory(this.program, this.memory) };
  }

  private nativeBatch(b: Batch, dropoutSeed: number | null, key: string): NativeBatch {
    validateBatch(b);
    const p = this.program;
    const N = b.B * b.T;
    if (N > this.options.capacityTokens)
      throw new Error(`CUDA session: a micro-batch of ${b.B} × ${b.T} = ${N} tokens exceeds the session's capacity of ${this.options.capacityTokens}; create the session with the largest batch × sequence length`);
    // the kernels trust ids and labels: check them here, as the reference ops do (ids against the embedding
    // table's rows, which are the vocabulary's; labels against the logits' width, a classifier's labels; a task
    // loss reads its targets instead)
    const words = this.vocabulary;
    for (let i = 0; i < N; i++) {
      const id = b.inputIds[i];
      if (id < 0 || id >= words) throw new Error(`embedding: token id ${id} at position ${i} is outside the vocabulary [0, ${words})`);
      const y = b.labels[i];
      if (!p.loss && y !== IGNORE_INDEX && (y < 0 || y >= p.vocab)) throw new Error(`cross-entropy: label ${y} at row ${i} is outside [0, ${p.vocab}) and is not ${IGNORE_INDEX}`);
    }
    const positions = positionsFromMask(b.attentionMask, b.B, b.T, b.segmentIds);
    const tokenTypes = checkBatchFits(p, b, positions);
    const out: NativeBatch = {
      B: b.B, T: b.T, V: p.vocab, ids: b.inputIds, labels: b.labels, mask: b.attentionMask, segments: b.segmentIds, positions, tokenTypes,
      headDim: p.rope?.headDim ?? 0, dropoutSeed: hashString(key, dropoutSeed ?? this.options.seed),
    };
    if (p.loss === 'mse') out.targets = Float32Array.from(b.regressionTargets!); // NaN (not trained) stays NaN
    if (p.loss === 'span') {
      out.starts = b.spanStarts;
      out.ends = b.spanEnds;
    }
    if (p.rope) {
      const t = ropeTables(p.rope, positions);
      out.cos = Float32Array.from(t.cos);
      out.sin = Float32Array.from(t.sin);
    }
    if (p.ropeLocal) {
      if (p.ropeLocal.headDim !== p.rope?.headDim) throw new Error('CUDA session: local and global rope tables must share head_dim');
      const t = ropeTables(p.ropeLocal, positions);
      out.cosLocal = Float32Array.from(t.cos);
      out.sinLocal = Float32Array.from(t.sin);
    }
    if (this.options.exactDropout) {
      // the CPU executor's masks, as keep flags in plan module order (modules without dropout take no bytes)
      const masks = dropoutSeed !== null ? dropoutMasks(p, N, dropoutSeed, 'micro-step') : dropoutMasks(p, N, this.options.seed, key);
      const modules = this.plans[0].loraModules;
      const offsets = [0];
      for (const m of modules) offsets.push(offsets[offsets.length - 1] + (masks.get(m)?.length ?? 0));
      const keep = new Uint8Array(offsets[offsets.length - 1]);
      modules.forEach((m, i) => {
        const mask = masks.get(m);
        if (mask) for (let j = 0; j < mask.length; j++) keep[offsets[i] + j] = mask[j] > 0 ? 1 : 0;
      });
      out.hostKeep = keep;
      out.hostKeepOffsets = offsets;
    }
    return out;
  }

  private async run(mode: keyof typeof MODES, b: NativeBatch) {
    try {
      return await this.native.run(MODES[mode], b);
    } catch (e) {
      throw translate(e, this.program, this.memory, { B: b.B, T: b.T });
    }
  }

  async microStep(batch: Batch, options: MicroStepOptions = {}): Promise<MicroStepResult> {
    const key = options.dropoutSeed !== undefined ? 'micro-step' : `step ${this.step} micro ${this.micro}`;
    const nb = this.nativeBatch(batch, options.dropoutSeed ?? null, key);
    const { nll } = await this.run('train', nb);
    let lossSum = 0;
    let tokens = 0;
    if (this.program.loss) {
      for (const x of nll) lossSum += x; // 0 but on each sequence's first row
      tokens = this.taskCounts(batch).reduce((a, c) => a + c, 0);
    } else
      for (let i = 0; i < nll.length; i++)
        if (batch.labels[i] !== IGNORE_INDEX) {
          lossSum += nll[i];
          tokens++;
        }
    this.micro++;
    this.tokensSinceUpdate += tokens;
    return { lossSum, tokens };
  }

  async applyUpdate(o: UpdateOptions): Promise<UpdateResult> {
    if (this.tokensSinceUpdate === 0) throw new Error('applyUpdate: no trained tokens since the last update (every label was -100)');
    const t = this.step + 1;
    const gradNorm = await this.native.applyUpdate({
      lr: o.lr, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.weightDecay,
      biasCorr1: 1 - o.beta1 ** t, biasCorr2: 1 - o.beta2 ** t, invTokens: 1 / this.tokensSinceUpdate,
      clipMax: o.maxGradNorm === null ? 3.4e38 : o.maxGradNorm,
    });
    this.step = t;
    this.micro = 0;
    this.tokensSinceUpdate = 0;
    return { gradNorm };
  }

  async evaluate(batch: Batch): Promise<EvalResult> {
    const { nll } = await this.run('eval', this.nativeBatch(batch, null, 'eval'));
    return this.perSequence(batch, nll);
  }

  /** What each sequence adds to a task loss's count (ops/task-loss.ts), as the CPU executor counts it. */
  private taskCounts(b: Batch): Float64Array {
    return taskCounts(this.program.loss!, b.B, b.T, { targets: b.regressionTargets, starts: b.spanStarts, ends: b.spanEnds });
  }

  private perSequence(b: Batch, nll: Float32Array): EvalResult {
    if (!this.program.loss) return perSequence(b, nll);
    // a task loss puts each sequence's loss on its first row
    return { nllPerSequence: Float64Array.from({ length: b.B }, (_, i) => nll[i * b.T]), tokensPerSequence: Int32Array.from(this.taskCounts(b), (c) => (c > 0 ? 1 : 0)) };
  }

  /** Logits (B·T, V) as float32 and per-sequence NLL, for parity tests and generation-free inspection. */
  async forward(batch: Batch): Promise<{ logits: Float32Array; nllPerSequence: Float64Array }> {
    const { nll, logits } = await this.run('logits', this.nativeBatch(batch, null, 'logits'));
    return { logits: logits!, nllPerSequence: this.perSequence(batch, nll).nllPerSequence };
  }

  /** The accumulated (un-averaged) gradient of each trainable, keyed by PEFT name. For tests. */
  getAccumulatedGradients(): TensorMap {
    return this.toMap(this.native.getGradients(this.total));
  }

  private toMap(flat: Float32Array): TensorMap {
    return this.layout.toMap(flat);
  }

  private fromMap(t: TensorMap, what: string): Float32Array {
    return this.layout.fromMap(t, what) as Float32Array;
  }

  getTrainables(): TensorMap {
    return this.toMap(this.native.getTrainables(this.total));
  }
  setTrainables(tensors: TensorMap): void {
    this.native.setTrainables(this.fromMap(tensors, 'setTrainables'));
  }
  getOptimizerState(): { step: number; m: TensorMap; v: TensorMap } {
    const { m, v } = this.native.getMoments(this.total);
    return { step: this.step, m: this.toMap(m), v: this.toMap(v) };
  }
  setOptimizerState(state: { step: number; m: TensorMap; v: TensorMap }): void {
    if (!Number.isInteger(state.step) || state.step < 0) throw new Error(`setOptimizerState: step must be a non-negative integer, got ${state.step}`);
    this.native.setMoments(this.fromMap(state.m, 'setOptimizerState (m)'), this.fromMap(state.v, 'setOptimizerState (v)'));
    this.step = state.step;
    this.micro = 0;
    this.tokensSinceUpdate = 0;
  }

  async dispose(): Promise<void> {
    this.native.dispose();
  }
}

function perSequence(b: Batch, nll: Float32Array): EvalResult {
  const nllPerSequence = new Float64Array(b.B);
  const tokensPerSequence = new Int32Array(b.B);
  for (let i = 0; i < b.B * b.T; i++)
    if (b.labels[i] !== IGNORE_INDEX) {
      nllPerSequence[Math.floor(i / b.T)] += nll[i];
      tokensPerSequence[Math.floor(i / b.T)]++;
    }
  return { nllPerSequence, tokensPerSequence };
}

/** The addon's CUDA_OOM errors become CudaOutOfMemoryError with what to change; others pass through. */
function translate(e: unknown, p: Program, memory: MemoryOptions, batch?: { B: number; T: number }): unknown {
  const err = e as { code?: string; allocating?: string; freeBytes?: number; totalBytes?: number };
  if (err?.code !== 'CUDA_OOM') return e;
  const message = oomAdvice({ program: p, options: memory, batch, allocating: err.allocating, freeBytes: err.freeBytes, totalBytes: err.totalBytes });
  return new CudaOutOfMemoryError(message, estimateCudaMemory(p, memory));
}

export function createCudaTrainingSession(o: CudaSessionOptions): Promise<CudaTrainingSession> {
  return CudaTrainingSession.create(o);
}
