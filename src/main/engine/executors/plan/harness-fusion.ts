// The float64 replay of the adapter-combination steps (steps.ts: mix_*, fusion_*), for the plan harness. Each is
// written from the step's own definition, not from ops/adapter-fusion.ts (only mixWeights, softmax of θ, is shared): the plan test then checks
// that these small steps, in the order lowering.ts emits them, compose to the ops' forward and backward (the
// reference executor's loss and gradients). native/cuda/adapter_fusion.cu implements the same definitions.
import { mixWeights } from '../../ops/adapter-mix.ts';
import type { Step } from './steps.ts';

type StepOf<K extends Step['kind']> = Extract<Step, { kind: K }>;
type View = (t: number) => Float64Array;

export type FusionStep = StepOf<
  'mix_add' | 'mix_scale_bwd' | 'mix_theta_bwd' | 'fusion_proj' | 'fusion_proj_bwd' | 'fusion_score' | 'fusion_softmax' | 'fusion_softmax_bwd' | 'fusion_mix' | 'fusion_mix_bwd' | 'fusion_score_bwd'
>;

export const FUSION_STEP_KINDS = new Set<Step['kind']>([
  'mix_add', 'mix_scale_bwd', 'mix_theta_bwd', 'fusion_proj', 'fusion_proj_bwd', 'fusion_score', 'fusion_softmax', 'fusion_softmax_bwd', 'fusion_mix', 'fusion_mix_bwd', 'fusion_score_bwd',
]);

/** Replays one combination step: `trainables` / `grads` are the flat f32 masters and their accumulator. */
export function replayFusionStep(s: FusionStep, N: number, view: View, trainables: Float64Array, grads: Float64Array): void {
  const weights = (theta: number, K: number, softmax: boolean) => mixWeights(trainables.subarray(theta, theta + K), softmax);
  switch (s.kind) {
    case 'mix_add': {
      const wk = weights(s.theta, s.K, s.softmax)[s.index];
      const [x, out] = [view(s.x), view(s.out)];
      for (let i = 0; i < out.length; i++) out[i] += wk * x[i];
      return;
    }
    case 'mix_scale_bwd': {
      const wk = weights(s.theta, s.K, s.softmax)[s.index];
      const [dout, dx] = [view(s.dout), view(s.dx)];
      for (let i = 0; i < dx.length; i++) dx[i] = wk * dout[i];
      return;
    }
    case 'mix_theta_bwd': {
      const [dout, x] = [view(s.dout), view(s.x)];
      let dot = 0;
      for (let i = 0; i < x.length; i++) dot += dout[i] * x[i];
      if (!s.softmax) {
        grads[s.theta + s.index] += dot;
        return;
      }
      const w = weights(s.theta, s.K, true);
      for (let k = 0; k < s.K; k++) grads[s.theta + k] += w[k] * ((k === s.index ? 1 : 0) - w[s.index]) * dot;
      return;
    }
    case 'fusion_proj': {
      const [x, out] = [view(s.x), view(s.out)];
      const W = trainables.subarray(s.w, s.w + s.inF * s.outF);
      for (let n = 0; n < N; n++)
        for (let o = 0; o < s.outF; o++) {
          let acc = 0;
          for (let i = 0; i < s.inF; i++) acc += x[n * s.inF + i] * (s.trans ? W[o * s.inF + i] : W[i * s.outF + o]);
          out[n * s.outF + o] = (s.accumulate ? out[n * s.outF + o] : 0) + acc;
        }
      return;
    }
    case 'fusion_proj_bwd': {
      const [dout, x] = [view(s.dout), view(s.x)];
      const W = trainables.subarray(s.w, s.w + s.inF * s.outF);
      const dW = grads.subarray(s.w, s.w + s.inF * s.outF);
      for (let n = 0; n < N; n++)
        for (let i = 0; i < s.inF; i++)
          for (let o = 0; o < s.outF; o++) dW[s.trans ? o * s.inF + i : i * s.outF + o] += x[n * s.inF + i] * dout[n * s.outF + o];
      if (s.dx === null) return;
      const dx = view(s.dx);
      for (let n = 0; n < N; n++)
        for (let i = 0; i < s.inF; i++) {
          let acc = 0;
          for (let o = 0; o < s.outF; o++) acc += dout[n * s.outF + o] * (s.trans ? W[o * s.inF + i] : W[i * s.outF + o]);
          dx[n * s.inF + i] = (s.dxAccumulate ? dx[n * s.inF + i] : 0) + acc;
        }
      return;
    }
    case 'fusion_score': {
      const [a, b, dst] = [view(s.a), view(s.b), view(s.dst)];
      for (let n = 0; n < N; n++) {
        let acc = 0;
        for (let e = 0; e < s.width; e++) acc += a[n * s.width + e] * b[n * s.width + e];
        dst[n * s.M + s.index] = acc;
      }
      return;
    }
    case 'fusion_softmax': {
      const [x, out] = [view(s.x), view(s.out)];
      for (let n = 0; n < N; n++) {
        const row = x.subarray(n * s.width, (n + 1) * s.width);
        const max = Math.max(...row);
        let sum = 0;
        for (let j = 0; j < s.width; j++) sum += out[n * s.width + j] = Math.exp(row[j] - max);
        for (let j = 0; j < s.width; j++) out[n * s.width + j] /= sum;
      }
      return;
    }
    case 'fusion_softmax_bwd': {
      const [dout, alpha, dx] = [view(s.dout), view(s.out), view(s.dx)];
      for (let n = 0; n < N; n++) {
        let mean = 0;
        for (let j = 0; j < s.width; j++) mean += alpha[n * s.width + j] * dout[n * s.width + j];
        for (let j = 0; j < s.width; j++) dx[n * s.width + j] = alpha[n * s.width + j] * (dout[n * s.width + j] - mean);
      }
      return;
    }
    case 'fusion_mix': {
      const [x, alpha, out] = [view(s.x), view(s.a), view(s.out)];
      for (let n = 0; n < N; n++) {
        const a = alpha[n * s.M + s.index];
        for (let i = 0; i < s.width; i++) out[n * s.width + i] = (s.index > 0 ? out[n * s.width + i] : 0) + a * x[n * s.width + i];
      }
      return;
    }
    case 'fusion_mix_bwd': {
      const [dout, alpha, dx] = [view(s.dout), view(s.a), view(s.dx)];
      for (let n = 0; n < N; n++) {
        const a = alpha[n * s.M + s.index];
        for (let i = 0; i < s.width; i++) dx[n * s.width + i] = a * dout[n * s.width + i];
      }
      return;
    }
    case 'fusion_score_bwd': {
      const [ds, q, k, dq, dk] = [view(s.dout), view(s.q), view(s.k), view(s.dq), view(s.dk)];
      for (let n = 0; n < N; n++) {
        const g = ds[n * s.M + s.index];
        for (let e = 0; e < s.width; e++) {
          dq[n * s.width + e] += g * k[n * s.width + e];
          dk[n * s.width + e] = g * q[n * s.width + e];
        }
      }
      return;
    }
  }
}
