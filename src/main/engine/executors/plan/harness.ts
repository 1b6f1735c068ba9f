// The CPU-side harness of the device plan (what the CUDA executor runs): replays a lowered Plan step by step with
// the float64 op references (ops/*.ts), through the same physical slots the device would use. Two things follow:
//   - the lowering (step order, gradient fan-in, aliasing, checkpoint recompute, chunked LM head) is checked against
//     the reference executor on any machine, GPU or not;
//   - slot reuse is checked: every read asserts that the tensor it wants is still the slot's tenant, so a liveness
//     bug fails loudly here instead of silently corrupting gradients on the GPU.

import type { Program } from '../../../model/ir.ts';
import { embeddingForward } from '../../ops/embedding.ts';
import { rmsnormBackward, rmsnormForward } from '../../ops/rmsnorm.ts';
import { layernormBackward, layernormForward } from '../../ops/layernorm.ts';
import { linearBackward, linearForward, type LoraBranch } from '../../ops/linear.ts';
import { ropeBackward, ropeForward } from '../../ops/rope.ts';
import { attentionBackward, attentionBias, attentionForward } from '../../ops/attention.ts';
import { swigluBackward, swigluForward } from '../../ops/swiglu.ts';
import { geluErfBackward, geluErfForward, geluTanhBackward, geluTanhForward } from '../../ops/gelu.ts';
import { crossEntropyBackward, crossEntropyForward } from '../../ops/cross-entropy.ts';
import { gegluBackward, gegluForward } from '../../ops/geglu.ts';
import { softcapBackward, softcapForward } from '../../ops/softcap.ts';
import { firstTokenBackward, firstTokenForward } from '../../ops/pooling.ts';
import { taskLossBackward, taskLossForward } from '../../ops/task-loss.ts';
import { reluBackward, reluForward } from '../../ops/relu.ts';
import { replayFusionStep } from './harness-fusion.ts';
import { stepIO, trainableOffsets, type LoraRef, type Plan, type Step } from './plan.ts';

export interface HarnessBatch {
  B: number;
  T: number;
  ids: Int32Array; // (N)
  labels: Int32Array; // (N)
  mask: Uint8Array; // (N)
  segments?: Int32Array;
  positions: Int32Array; // (N) token positions (learned position tables)
  tokenTypes?: Int32Array; // (N) token types (token-type tables); absent = 0
  regressionTargets?: Float64Array | null; // (B) mse_loss
  spanStarts?: Int32Array | null; // (B) span_loss
  spanEnds?: Int32Array | null;
  cos: Float64Array | null; // (N, HD)
  sin: Float64Array | null;
  cosLocal?: Float64Array | null; // tables of rope nodes marked local
  sinLocal?: Float64Array | null;
  /** LoRA dropout multipliers by module (0 or 1/(1−p)), e.g. from batch-inputs' dropoutMasks. */
  dropMasks?: Map<string, ArrayLike<number>>;
}

export interface HarnessResult {
  nll: Float64Array; // (N)
  logits: Float64Array | null; // (N, V) in logits mode
}

function unhandled(s: never): never {
  throw new Error(`plan harness: no float64 replay for step ${(s as Step).kind}`);
}

export class PlanHarness {
  readonly gradAcc: Float64Array;
  private readonly offsets: Map<string, number>;

  constructor(readonly plan: Plan, readonly program: Program, readonly weights: Map<string, Float64Array>, readonly trainables: Float64Array) {
    const { offsets, total } = trainableOffsets(program);
    if (trainables.length !== total) throw new Error(`plan harness: trainables have ${trainables.length} values, the program needs ${total}`);
    this.offsets = offsets;
    this.gradAcc = new Float64Array(total);
  }

  run(b: HarnessBatch): HarnessResult {
    const { plan } = this;
    const N = b.B * b.T;
    const slots = plan.slots.map((s) => new Float64Array(N * s.width));
    const tenant = new Array<number>(plan.slots.length).fill(-1);
    const side = new Map<number, unknown>(); // tensor id → what a float64 op keeps besides the tensor (attention probs)
    const view = (t: number) => slots[plan.slotOf[t]].subarray(0, N * plan.tensors[t].width);
    const w = (name: string) => {
      const x = this.weights.get(name);
      if (!x) throw new Error(`plan harness: missing weight ${name}`);
      return x;
    };
    const biasCache = new Map<string, Float64Array>();
    const bias = (window: number, causal: boolean) => {
      const key = `${window}:${causal}`;
      let x = biasCache.get(key);
      if (!x) biasCache.set(key, (x = attentionBias(b.mask, b.B, b.T, window > 0 ? window : null, b.segments, causal)));
      return x;
    };
    const lora = (ref: LoraRef | null): LoraBranch | null => {
      if (!ref) return null;
      const mult = ref.keep === null ? null : view(ref.keep).map((k) => (k ? ref.keepScale : 0));
      return {
        A: this.trainables.subarray(ref.A, ref.A + ref.r * this.inF(ref)),
        B: this.trainables.subarray(ref.B, ref.B + this.outF(ref) * ref.r),
        r: ref.r, scale: ref.scale, dropMask: mult,
      };
    };
    plan.steps.forEach((s, i) => {
      const { reads, writes } = stepIO(s);
      for (const t of reads)
        if (tenant[plan.slotOf[t]] !== t) {
          const other = tenant[plan.slotOf[t]];
          throw new Error(`plan harness: step ${i} (${s.kind}) reads ${plan.tensors[t].name}, but slot ${plan.slotOf[t]} holds ${other < 0 ? 'nothing yet' : plan.tensors[other].name}`);
        }
      for (const t of writes) {
        tenant[plan.slotOf[t]] = t;
        side.delete(t);
      }
      this.exec(s, N, b, view, w, bias, lora, side);
    });
    return { nll: Float64Array.from(view(plan.nll)), logits: plan.logits !== null ? Float64Array.from(view(plan.logits)) : null };
  }

  /** A linear step's weight and bias: from the flat trainables where they train in full, else the frozen weights. */
  private linearWeights(s: { weight: string; inF: number; outF: number; trainW: number | null; trainB: number | null; bias?: string | null }, w: (name: string) => Float64Array): [Float64Array, Float64Array | null] {
    const W = s.trainW === null ? w(s.weight) : this.trainables.subarray(s.trainW, s.trainW + s.outF * s.inF);
    const bias = s.trainB !== null ? this.trainables.subarray(s.trainB, s.trainB + s.outF) : s.bias ? w(s.bias) : null;
    return [W, bias];
  }

  private inF(ref: LoraRef): number {
    return this.linearOf(ref).inF;
  }
  private outF(ref: LoraRef): number {
    return this.linearOf(ref).outF;
  }
  private linearOf(ref: LoraRef) {
    const module = this.plan.loraModules[ref.module];
    const n = this.program.nodes.find((x) => x.op === 'linear' && x.module === module);
    if (!n || n.op !== 'linear') throw new Error(`plan harness: no linear module ${module}`);
    return n;
  }

  private exec(
    s: Step, N: number, b: HarnessBatch, view: (t: number) => Float64Array, w: (name: string) => Float64Array,
    bias: (window: number, causal: boolean) => Float64Array, lora: (ref: LoraRef | null) => LoraBranch | null, side: Map<number, unknown>,
  ): void {
    switch (s.kind) {
      case 'embedding': {
        const out = view(s.out);
        embeddingForward(out, b.ids, w(s.weight), N, s.width, w(s.weight).length / s.width); // the table's rows, not the head's width
        if (s.scale !== 1) for (let i = 0; i < out.length; i++) out[i] *= s.scale;
        return;
      }
      case 'position_embedding':
        embeddingForward(view(s.out), s.offset ? b.positions.map((p) => p + s.offset) : b.positions, w(s.weight), N, s.width, w(s.weight).length / s.width);
        return;
      case 'token_type_embedding':
        embeddingForward(view(s.out), b.tokenTypes ?? new Int32Array(N), w(s.weight), N, s.width, w(s.weight).length / s.width);
        return;
      case 'slice': {
        const [x, out] = [view(s.x), view(s.out)];
        for (let r = 0; r < N; r++) out.set(x.subarray(r * s.inWidth + s.start, r * s.inWidth + s.start + s.width), r * s.width);
        return;
      }
      case 'geglu':
        gegluForward(view(s.out), view(s.gate), view(s.up), N * s.width);
        return;
      case 'softcap':
        softcapForward(view(s.out), view(s.x), N * s.width, s.cap);
        return;
      case 'geglu_bwd':
        gegluBackward(view(s.dgate), view(s.dup), view(s.dout), view(s.gate), view(s.up), N * s.width);
        return;
      case 'softcap_bwd':
        softcapBackward(view(s.dx), view(s.dout), view(s.x), N * s.width, s.cap);
        return;
      case 'slice_bwd': {
        const [dout, dx] = [view(s.dout), view(s.dx)];
        for (let r = 0; r < N; r++) for (let c = 0; c < s.width; c++) dx[r * s.inWidth + s.start + c] += dout[r * s.width + c];
        return;
      }
      case 'zero':
        view(s.dst).fill(0);
        return;
      case 'rmsnorm': {
        const x = view(s.x);
        rmsnormForward(view(s.out), view(s.rstd), x, w(s.weight), x.length / s.width, s.width, s.eps, s.plusOne);
        return;
      }
      case 'layernorm': {
        const x = view(s.x);
        layernormForward(view(s.out), view(s.mean), view(s.rstd), x, w(s.weight), w(s.bias), x.length / s.width, s.width, s.eps);
        return;
      }
      case 'dropout_mask': {
        const module = this.plan.loraModules[s.module];
        const m = b.dropMasks?.get(module);
        if (!m) throw new Error(`plan harness: no dropout mask for ${module}`);
        const keep = view(s.out);
        if (m.length !== keep.length) throw new Error(`plan harness: dropout mask of ${module} has ${m.length} values, expected ${keep.length}`);
        for (let i = 0; i < keep.length; i++) keep[i] = m[i] > 0 ? 1 : 0;
        return;
      }
      case 'linear': {
        const [W, bias] = this.linearWeights(s, w);
        const saved = linearForward(view(s.out), view(s.x), W, bias, lora(s.lora), N, s.inF, s.outF);
        if (s.lora && saved) view(s.lora.h).set(saved.h);
        return;
      }
      case 'rope':
        ropeForward(view(s.out), view(s.x), s.local ? b.cosLocal! : b.cos!, s.local ? b.sinLocal! : b.sin!, N, s.heads, s.headDim);
        return;
      case 'attention': {
        const att = attentionForward(view(s.out), view(s.q), view(s.k), view(s.v), bias(s.window, s.causal), { B: b.B, T: b.T, NH: s.NH, NKV: s.NKV, HD: s.HD, scale: s.scale });
        side.set(s.lse, att); // the float64 op keeps probabilities where the kernel keeps log-sum-exp
        return;
      }
      case 'swiglu':
        swigluForward(view(s.out), view(s.gate), view(s.up), N * s.width);
        return;
      case 'gelu':
        geluTanhForward(view(s.out), view(s.x), N * s.width);
        return;
      case 'add': {
        const [a, c, out] = [view(s.a), view(s.b), view(s.out)];
        for (let i = 0; i < out.length; i++) out[i] = a[i] + c[i];
        return;
      }
      case 'lm_head_loss': {
        const x = view(s.x);
        const W = w(s.weight);
        const nll = view(s.nll);
        const dx = s.dx === null ? null : view(s.dx);
        for (let r0 = 0; r0 < N; r0 += s.chunkRows) {
          const rows = Math.min(s.chunkRows, N - r0);
          const xc = x.subarray(r0 * s.inF, (r0 + rows) * s.inF);
          const raw = new Float64Array(rows * s.V);
          linearForward(raw, xc, W, s.bias ? w(s.bias) : null, null, rows, s.inF, s.V);
          let logits = raw;
          if (s.softcap) softcapForward((logits = new Float64Array(raw.length)), raw, raw.length, s.softcap);
          const labels = b.labels.subarray(r0, r0 + rows);
          const ce = crossEntropyForward(logits, labels, rows, s.V);
          nll.set(ce.nll, r0);
          if (!dx) continue;
          let dlogits = new Float64Array(rows * s.V);
          crossEntropyBackward(dlogits, ce.probs, labels, rows, s.V);
          if (s.softcap) {
            const dcapped = dlogits;
            softcapBackward((dlogits = new Float64Array(dcapped.length)), dcapped, raw, raw.length, s.softcap);
          }
          const dxc = dx.subarray(r0 * s.inF, (r0 + rows) * s.inF);
          linearBackward({ dx: dxc, dW: null, db: null, dA: null, dB: null }, dlogits, xc, W, null, null, rows, s.inF, s.V);
        }
        return;
      }
      case 'cross_entropy': {
        const ce = crossEntropyForward(view(s.logits), b.labels, N, s.V);
        view(s.nll).set(ce.nll);
        if (s.dlogits !== null) crossEntropyBackward(view(s.dlogits), ce.probs, b.labels, N, s.V);
        return;
      }
      case 'mse_loss':
      case 'span_loss': {
        const loss = s.kind === 'mse_loss' ? 'mse' : 'span';
        const targets = { targets: b.regressionTargets, starts: b.spanStarts, ends: b.spanEnds };
        if (loss === 'mse' ? !targets.targets : !targets.starts || !targets.ends) throw new Error(`plan harness: ${s.kind} without the batch's ${loss === 'mse' ? 'regressionTargets' : 'spanStarts/spanEnds'}`);
        const logits = view(s.logits);
        const r = taskLossForward(loss, logits, b.B, b.T, targets);
        view(s.nll).set(r.nll);
        if (s.dlogits !== null) taskLossBackward(loss, view(s.dlogits), logits, r.probs, b.B, b.T, targets);
        return;
      }
      case 'rmsnorm_bwd': {
        const x = view(s.x);
        rmsnormBackward(view(s.dx), null, view(s.dout), x, w(s.weight), view(s.rstd), x.length / s.width, s.width, s.plusOne);
        return;
      }
      case 'layernorm_bwd': {
        const x = view(s.x);
        layernormBackward(view(s.dx), null, null, view(s.dout), x, w(s.weight), view(s.mean), view(s.rstd), x.length / s.width, s.width);
        return;
      }
      case 'linear_bwd': {
        const x = view(s.x);
        const dout = view(s.dout);
        const br = lora(s.lora);
        // the device GEMM accumulates into an existing gradient; the float64 op assigns, so add by hand
        const dx = s.dx === null ? null : s.dxAccumulate ? new Float64Array(N * s.inF) : view(s.dx);
        let savedLora = null;
        let dA: Float64Array | null = null;
        let dB: Float64Array | null = null;
        if (s.lora && br) {
          const xd = br.dropMask ? x.map((v, i) => v * br.dropMask![i]) : x;
          savedLora = { xd, h: view(s.lora.h) };
          dA = this.gradAcc.subarray(s.lora.A, s.lora.A + s.lora.r * s.inF);
          dB = this.gradAcc.subarray(s.lora.B, s.lora.B + s.outF * s.lora.r);
          const dh = view(s.lora.dh); // the kernel's scratch: dh = scale · dout · B
          for (let n = 0; n < N; n++)
            for (let k = 0; k < s.lora.r; k++) {
              let acc = 0;
              for (let o = 0; o < s.outF; o++) acc += dout[n * s.outF + o] * br.B[o * s.lora.r + k];
              dh[n * s.lora.r + k] = s.lora.scale * acc;
            }
        }
        // weights that train in full accumulate their gradients into the flat accumulator, as the device does
        const dW = s.trainW === null ? null : this.gradAcc.subarray(s.trainW, s.trainW + s.outF * s.inF);
        const db = s.trainB === null ? null : this.gradAcc.subarray(s.trainB, s.trainB + s.outF);
        linearBackward({ dx, dW, db, dA, dB }, dout, x, this.linearWeights(s, w)[0], br, savedLora, N, s.inF, s.outF);
        if (dx && s.dxAccumulate) {
          const g = view(s.dx!);
          for (let i = 0; i < g.length; i++) g[i] += dx[i];
        }
        return;
      }
      case 'rope_bwd':
        ropeBackward(view(s.dx), view(s.dout), s.local ? b.cosLocal! : b.cos!, s.local ? b.sinLocal! : b.sin!, N, s.heads, s.headDim);
        return;
      case 'attention_bwd': {
        const att = side.get(s.lse) as Float64Array | undefined;
        if (!att) throw new Error('plan harness: attention backward without its forward probabilities');
        attentionBackward(view(s.dq), view(s.dk), view(s.dv), view(s.dout), view(s.q), view(s.k), view(s.v), att, { B: b.B, T: b.T, NH: s.NH, NKV: s.NKV, HD: s.HD, scale: s.scale });
        view(s.delta).fill(0);
        return;
      }
      case 'swiglu_bwd':
        swigluBackward(view(s.dgate), view(s.dup), view(s.dout), view(s.gate), view(s.up), N * s.width);
        return;
      case 'first_token':
        firstTokenForward(view(s.out), view(s.x), b.B, b.T, s.width);
        return;
      case 'first_token_bwd':
        firstTokenBackward(view(s.dx), view(s.dout), b.B, b.T, s.width);
        return;
      case 'gelu_erf':
        geluErfForward(view(s.out), view(s.x), N * s.width);
        return;
      case 'relu':
        reluForward(view(s.out), view(s.x), N * s.width);
        return;
      case 'relu_bwd':
        reluBackward(view(s.dx), view(s.dout), view(s.x), N * s.width);
        return;
      case 'gelu_erf_bwd':
        geluErfBackward(view(s.dx), view(s.dout), view(s.x), N * s.width);
        return;
      case 'gelu_bwd':
        geluTanhBackward(view(s.dx), view(s.dout), view(s.x), N * s.width);
        return;
      case 'copy':
        view(s.dst).set(view(s.src));
        return;
      case 'accumulate': {
        const [src, dst] = [view(s.src), view(s.dst)];
        for (let i = 0; i < dst.length; i++) dst[i] += src[i];
        return;
      }
      case 'mix_add':
      case 'mix_scale_bwd':
      case 'mix_theta_bwd':
      case 'fusion_proj':
      case 'fusion_proj_bwd':
      case 'fusion_score':
      case 'fusion_softmax':
      case 'fusion_softmax_bwd':
      case 'fusion_mix':
      case 'fusion_mix_bwd':
      case 'fusion_score_bwd':
        replayFusionStep(s, N, view, this.trainables, this.gradAcc);
        return;
      default:
        return unhandled(s); // a step kind (steps.ts) without a case here is a type error
    }
  }
}
