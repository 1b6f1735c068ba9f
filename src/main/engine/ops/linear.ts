// Linear layer y = x·Wᵀ + b, with an optional LoRA branch as PEFT defines it:
//   y += scale · (dropout(x)·Aᵀ)·Bᵀ,   A (r, IC), B (OC, r), scale = alpha/r (or alpha/√r with rsLoRA).
// W is stored as PyTorch stores nn.Linear weights, (OC, IC). GPT-2's Conv1D (IC, OC) is transposed on load.

export interface LoraBranch {
  A: Float64Array; // (r, IC)
  B: Float64Array; // (OC, r)
  r: number;
  scale: number;
  /** (N, IC) dropout multipliers: 0 or 1/(1-p); null = no dropout. */
  dropMask: Float64Array | null;
}

export interface LoraSaved {
  xd: Float64Array; // (N, IC) dropout(x), the input the branch saw
  h: Float64Array; // (N, r) xd·Aᵀ
}

/** out (N, OC) = x (N, IC) · Wᵀ + bias (OC) [+ LoRA]. Returns what the LoRA backward needs. */
export function linearForward(
  out: Float64Array, x: Float64Array, W: Float64Array, bias: Float64Array | null, lora: LoraBranch | null,
  N: number, IC: number, OC: number,
): LoraSaved | null {
  for (let n = 0; n < N; n++) {
    for (let o = 0; o < OC; o++) {
      let acc = bias ? bias[o] : 0;
      for (let i = 0; i < IC; i++) acc += x[n * IC + i] * W[o * IC + i];
      out[n * OC + o] = acc;
    }
  }
  if (!lora) return null;
  const { A, B, r, scale, dropMask } = lora;
  const xd = new Float64Array(N * IC);
  for (let j = 0; j < N * IC; j++) xd[j] = dropMask ? x[j] * dropMask[j] : x[j];
  const h = new Float64Array(N * r);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < r; k++) {
      let acc = 0;
      for (let i = 0; i < IC; i++) acc += xd[n * IC + i] * A[k * IC + i];
      h[n * r + k] = acc;
    }
    for (let o = 0; o < OC; o++) {
      let acc = 0;
      for (let k = 0; k < r; k++) acc += h[n * r + k] * B[o * r + k];
      out[n * OC + o] += scale * acc;
    }
  }
  return { xd, h };
}

export interface LinearGrads {
  dx: Float64Array | null; // (N, IC) assigned; null when x needs no gradient
  dW: Float64Array | null; // (OC, IC) accumulated; null when W is frozen
  db: Float64Array | null; // (OC) accumulated
  dA: Float64Array | null; // (r, IC) accumulated
  dB: Float64Array | null; // (OC, r) accumulated
}

/**
 * dx = dout·W + mask ⊙ (scale · (dout·B)·A);   dW += doutᵀ·x;   db += Σ_n dout;
 * dA += (scale · dout·B)ᵀ·xd;   dB += scale · doutᵀ·h.
 */
export function linearBackward(
  g: LinearGrads, dout: Float64Array, x: Float64Array, W: Float64Array, lora: LoraBranch | null,
  saved: LoraSaved | null, N: number, IC: number, OC: number,
): void {
  const { dx, dW, db } = g;
  if (dx) {
    dx.fill(0);
    for (let n = 0; n < N; n++)
      for (let o = 0; o < OC; o++) {
        const d = dout[n * OC + o];
        for (let i = 0; i < IC; i++) dx[n * IC + i] += d * W[o * IC + i];
      }
  }
  if (dW)
    for (let n = 0; n < N; n++)
      for (let o = 0; o < OC; o++) {
        const d = dout[n * OC + o];
        for (let i = 0; i < IC; i++) dW[o * IC + i] += d * x[n * IC + i];
      }
  if (db) for (let n = 0; n < N; n++) for (let o = 0; o < OC; o++) db[o] += dout[n * OC + o];
  if (!lora || !saved) return;
  const { A, B, r, scale, dropMask } = lora;
  const dh = new Float64Array(N * r); // (N, r) gradient at h, scale folded in
  for (let n = 0; n < N; n++)
    for (let k = 0; k < r; k++) {
      let acc = 0;
      for (let o = 0; o < OC; o++) acc += dout[n * OC + o] * B[o * r + k];
      dh[n * r + k] = scale * acc;
    }
  if (g.dA)
    for (let n = 0; n < N; n++)
      for (let k = 0; k < r; k++) for (let i = 0; i < IC; i++) g.dA[k * IC + i] += dh[n * r + k] * saved.xd[n * IC + i];
  if (g.dB)
    for (let n = 0; n < N; n++)
      for (let o = 0; o < OC; o++) for (let k = 0; k < r; k++) g.dB[o * r + k] += scale * dout[n * OC + o] * saved.h[n * r + k];
  if (dx)
    for (let n = 0; n < N; n++)
      for (let i = 0; i < IC; i++) {
        let acc = 0;
        for (let k = 0; k < r; k++) acc += dh[n * r + k] * A[k * IC + i];
        dx[n * IC + i] += dropMask ? acc * dropMask[n * IC + i] : acc;
      }
}
