// TEST DOUBLE, not the engine: a TrainingSession over a bigram next-token model with one LoRA branch, small
// enough to have exact hand-written gradients in float64. The trainer's tests run against it so that they
// check the trainer (order, accumulation, schedule, checkpoints, resume) independently of the ONNX executor.
//
//   logits(x) = W0[x] + s · B · (d ⊙ A[:, x])        W0 (V, V) frozen, A (r, V), B (V, r), s = alpha / r
//   d = dropout mask on the LoRA input (keep prob 1−p, scaled by 1/(1−p)), seeded per micro-step
//
// Parameters and AdamW moments are stored as float32 (like a real executor), so a checkpoint round trip is exact.
import type { Batch, EvalResult, MicroStepOptions, MicroStepResult, TensorMap, TrainingSession, UpdateOptions, UpdateResult } from '../../../src/main/engine/session.ts';
import { SeededRandom, hashSeed } from '../../../src/main/engine/data/random.ts';

export const A_NAME = 'base_model.model.lm_head.lora_A.weight';
export const B_NAME = 'base_model.model.lm_head.lora_B.weight';

export interface BigramDoubleOptions {
  vocab: number;
  rank: number;
  alpha: number;
  dropout?: number;
  seed: number; // the frozen base model's weights
  loraSeed?: number; // A's initialisation (defaults to seed)
  /** Start B at a random value instead of 0 (for gradient checks, where B = 0 hides A's gradient). */
  randomB?: boolean;
}

export class BigramLoraDouble implements TrainingSession {
  readonly supportsPacking = true; // a bigram never looks past the previous token, so segments need no mask
  readonly V: number;
  readonly r: number;
  readonly scale: number;
  readonly dropout: number;
  readonly W0: Float64Array; // (V, V)
  A: Float32Array; // (r, V)
  B: Float32Array; // (V, r)
  private gradA: Float64Array;
  private gradB: Float64Array;
  private pendingTokens = 0;
  private step = 0;
  private mA: Float32Array;
  private vA: Float32Array;
  private mB: Float32Array;
  private vB: Float32Array;
  microSteps = 0;

  constructor(options: BigramDoubleOptions) {
    const { vocab: V, rank: r } = options;
    this.V = V;
    this.r = r;
    this.scale = options.alpha / r;
    this.dropout = options.dropout ?? 0;
    const random = new SeededRandom(hashSeed(options.seed, 1));
    this.W0 = Float64Array.from({ length: V * V }, () => (random.next() - 0.5) * 2);
    const loraRandom = new SeededRandom(hashSeed(options.loraSeed ?? options.seed, 2));
    const bound = 1 / Math.sqrt(V); // Kaiming-uniform(a=√5) bound for fan_in V, as PEFT initialises A
    this.A = Float32Array.from({ length: r * V }, () => (loraRandom.next() * 2 - 1) * bound);
    this.B = options.randomB ? Float32Array.from({ length: V * r }, () => (random.next() * 2 - 1) * 0.5) : new Float32Array(V * r);
    this.gradA = new Float64Array(r * V);
    this.gradB = new Float64Array(V * r);
    this.mA = new Float32Array(r * V);
    this.vA = new Float32Array(r * V);
    this.mB = new Float32Array(V * r);
    this.vB = new Float32Array(V * r);
  }

  /** log-softmax NLL of `label` after token `x`, and (optionally) accumulate its gradient. */
  private token(x: number, label: number, keep: number, accumulate: boolean): number {
    const { V, r, scale } = this;
    const h = new Float64Array(r); // (r) dropped LoRA input projection
    for (let k = 0; k < r; k++) h[k] = this.A[k * V + x] * keep;
    const z = new Float64Array(V); // (V) logits
    let max = -Infinity;
    for (let v = 0; v < V; v++) {
      let lora = 0;
      for (let k = 0; k < r; k++) lora += this.B[v * r + k] * h[k];
      z[v] = this.W0[x * V + v] + scale * lora;
      if (z[v] > max) max = z[v];
    }
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(z[v] - max);
    const logZ = max + Math.log(sum);
    if (accumulate) {
      // dL/dz = softmax(z) − onehot(label); dB = s·dz⊗h; dA[:, x] = s·keep·Bᵀdz
      for (let v = 0; v < V; v++) {
        const dz = Math.exp(z[v] - logZ) - (v === label ? 1 : 0);
        for (let k = 0; k < r; k++) {
          this.gradB[v * r + k] += scale * dz * h[k];
          this.gradA[k * V + x] += scale * keep * dz * this.B[v * r + k];
        }
      }
    }
    return logZ - z[label];
  }

  private forward(batch: Batch, accumulate: boolean, dropoutSeed?: number): { perSequence: Float64Array; tokens: Int32Array } {
    const perSequence = new Float64Array(batch.B);
    const tokens = new Int32Array(batch.B);
    const random = this.dropout > 0 && accumulate ? new SeededRandom(dropoutSeed ?? 0) : null;
    for (let b = 0; b < batch.B; b++) {
      for (let t = 0; t < batch.T; t++) {
        const i = b * batch.T + t;
        const label = batch.labels[i];
        const keep = random ? (random.next() < this.dropout ? 0 : 1 / (1 - this.dropout)) : 1;
        if (label === -100 || !batch.attentionMask[i]) continue;
        perSequence[b] += this.token(batch.inputIds[i], label, keep, accumulate);
        tokens[b]++;
      }
    }
    return { perSequence, tokens };
  }

  async microStep(batch: Batch, options?: MicroStepOptions): Promise<MicroStepResult> {
    this.microSteps++;
    const { perSequence, tokens } = this.forward(batch, true, options?.dropoutSeed);
    const n = tokens.reduce((a, b) => a + b, 0);
    this.pendingTokens += n;
    return { lossSum: perSequence.reduce((a, b) => a + b, 0), tokens: n };
  }

  async applyUpdate(o: UpdateOptions): Promise<UpdateResult> {
    const denominator = Math.max(1, this.pendingTokens);
    let sq = 0;
    for (const g of [this.gradA, this.gradB]) for (let i = 0; i < g.length; i++) sq += (g[i] / denominator) ** 2;
    const gradNorm = Math.sqrt(sq);
    // torch.nn.utils.clip_grad_norm_: multiply by max_norm / (norm + 1e-6) when that is below 1.
    const clip = o.maxGradNorm !== null ? Math.min(1, o.maxGradNorm / (gradNorm + 1e-6)) : 1;
    this.step++;
    const bc1 = 1 - o.beta1 ** this.step;
    const bc2 = 1 - o.beta2 ** this.step;
    const update = (p: Float32Array, g: Float64Array, m: Float32Array, v: Float32Array) => {
      for (let i = 0; i < p.length; i++) {
        const grad = (g[i] / denominator) * clip;
        m[i] = o.beta1 * m[i] + (1 - o.beta1) * grad;
        v[i] = o.beta2 * v[i] + (1 - o.beta2) * grad * grad;
        const decayed = p[i] * (1 - o.lr * o.weightDecay);
        p[i] = decayed - (o.lr * (m[i] / bc1)) / (Math.sqrt(v[i] / bc2) + o.eps);
        g[i] = 0;
      }
    };
    update(this.A, this.gradA, this.mA, this.vA);
    update(this.B, this.gradB, this.mB, this.vB);
    this.pendingTokens = 0;
    return { gradNorm };
  }

  async evaluate(batch: Batch): Promise<EvalResult> {
    const { perSequence, tokens } = this.forward(batch, false);
    return { nllPerSequence: perSequence, tokensPerSequence: tokens };
  }

  /** Test hook: the accumulated raw gradient sums (before averaging). */
  gradients(): { A: Float64Array; B: Float64Array } {
    return { A: this.gradA, B: this.gradB };
  }

  getTrainables(): TensorMap {
    return new Map([
      [A_NAME, { shape: [this.r, this.V], data: this.A.slice() }],
      [B_NAME, { shape: [this.V, this.r], data: this.B.slice() }],
    ]);
  }

  setTrainables(tensors: TensorMap): void {
    this.A = take(tensors, A_NAME, this.A.length);
    this.B = take(tensors, B_NAME, this.B.length);
  }

  getOptimizerState() {
    const pair = (a: Float32Array, b: Float32Array): TensorMap =>
      new Map([
        [A_NAME, { shape: [this.r, this.V], data: a.slice() }],
        [B_NAME, { shape: [this.V, this.r], data: b.slice() }],
      ]);
    return { step: this.step, m: pair(this.mA, this.mB), v: pair(this.vA, this.vB) };
  }

  setOptimizerState(state: { step: number; m: TensorMap; v: TensorMap }): void {
    this.step = state.step;
    this.mA = take(state.m, A_NAME, this.mA.length);
    this.mB = take(state.m, B_NAME, this.mB.length);
    this.vA = take(state.v, A_NAME, this.vA.length);
    this.vB = take(state.v, B_NAME, this.vB.length);
  }

  async dispose(): Promise<void> {}
}

function take(map: TensorMap, name: string, length: number): Float32Array {
  const tensor = map.get(name);
  if (!tensor || tensor.data.length !== length) throw new Error(`double: tensor ${name} missing or of the wrong size`);
  return tensor.data.slice();
}
