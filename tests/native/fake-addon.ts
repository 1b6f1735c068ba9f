// A stand-in for the native addon that runs each plan with the float64 CPU harness: it lets the TypeScript half of
// the CUDA executor (batch assembly, trainable layout, dropout masks, optimizer arguments, error translation) be
// tested against the CPU executor on a machine without a GPU. Its AdamW mirrors native/cuda/adamw.cu.
import type { Program } from '../../src/main/model/ir.ts';
import type { Plan } from '../../src/main/engine/executors/plan/plan.ts';
import { PlanHarness } from '../../src/main/engine/executors/plan/harness.ts';
import { dequantizeAbsmax, dequantizeNf4, quantizeNf4 } from '../../src/main/engine/quant/nf4.ts';
import type { NativeAddon, NativeAdamw, NativeBatch, NativeSession, NativeSessionOptions } from '../../src/main/engine/executors/cuda/addon.ts';

const f64 = (x?: Float32Array) => (x ? Float64Array.from(x) : null);

export function fakeAddon(program: Program, hooks: { failRun?: () => unknown } = {}): NativeAddon & { sessions: NativeSessionOptions[] } {
  const sessions: NativeSessionOptions[] = [];
  class FakeSession implements NativeSession {
    private weights = new Map<string, Float64Array>();
    private params: Float64Array;
    private grads: Float64Array;
    private m: Float64Array;
    private v: Float64Array;
    constructor(private readonly o: NativeSessionOptions) {
      sessions.push(o);
      const P = o.decay.length;
      this.params = new Float64Array(P);
      this.grads = new Float64Array(P);
      this.m = new Float64Array(P);
      this.v = new Float64Array(P);
    }
    uploadWeight(index: number, data: Float32Array) {
      const d = this.o.weights[index];
      // a weight the session holds as NF4 is quantized on upload, as the device does (double quantization)
      const w = d.nf4 ? dequantizeNf4(quantizeNf4(data, [d.shape[0], d.shape[1]], { doubleQuant: true })) : data;
      this.weights.set(d.name, Float64Array.from(w));
    }
    uploadNf4(index: number, t: { n: number; codes: Uint8Array; absmax?: Float32Array; qabsmax?: Uint8Array; absmax2?: Float32Array; offset?: number }) {
      const d = this.o.weights[index];
      const absmax = t.absmax ?? dequantizeAbsmax({ qabsmax: t.qabsmax!, absmax2: t.absmax2!, offset: t.offset! });
      const w = dequantizeNf4({ kind: 'nf4', shape: [d.shape[0], d.shape[1]], blockSize: 64, codes: t.codes, absmax, double: null });
      this.weights.set(d.name, Float64Array.from(w));
    }
    setTrainables(d: Float32Array) { this.params = Float64Array.from(d); }
    getTrainables() { return Float32Array.from(this.params); }
    getGradients() { return Float32Array.from(this.grads); }
    setMoments(m: Float32Array, v: Float32Array) {
      this.m = Float64Array.from(m);
      this.v = Float64Array.from(v);
      this.grads.fill(0);
    }
    getMoments() { return { m: Float32Array.from(this.m), v: Float32Array.from(this.v) }; }
    async run(mode: 0 | 1 | 2, b: NativeBatch) {
      if (hooks.failRun) throw hooks.failRun();
      const plan = this.o.plans[mode] as Plan;
      const h = new PlanHarness(plan, program, this.weights, this.params);
      const dropMasks = new Map<string, Uint8Array>();
      if (b.hostKeep) plan.loraModules.forEach((m, i) => dropMasks.set(m, b.hostKeep!.subarray(b.hostKeepOffsets![i], b.hostKeepOffsets![i + 1])));
      const out = h.run({
        B: b.B, T: b.T, ids: b.ids, labels: b.labels, mask: b.mask, segments: b.segments, positions: b.positions, tokenTypes: b.tokenTypes,
        regressionTargets: f64(b.targets), spanStarts: b.starts, spanEnds: b.ends,
        cos: f64(b.cos), sin: f64(b.sin), cosLocal: f64(b.cosLocal), sinLocal: f64(b.sinLocal), dropMasks,
      });
      if (mode === 0) for (let i = 0; i < this.grads.length; i++) this.grads[i] += h.gradAcc[i];
      return { nll: Float32Array.from(out.nll), ...(out.logits ? { logits: Float32Array.from(out.logits) } : {}) };
    }
    async applyUpdate(a: NativeAdamw) {
      let sq = 0;
      for (const g of this.grads) sq += (g * a.invTokens) ** 2;
      const norm = Math.sqrt(sq);
      const coef = Math.min(1, a.clipMax / (norm + 1e-6));
      for (let i = 0; i < this.params.length; i++) {
        const gc = this.grads[i] * a.invTokens * coef;
        let p = this.params[i];
        if (this.o.decay[i]) p -= a.lr * a.weightDecay * p;
        this.m[i] = a.beta1 * this.m[i] + (1 - a.beta1) * gc;
        this.v[i] = a.beta2 * this.v[i] + (1 - a.beta2) * gc * gc;
        this.params[i] = p - a.lr * (this.m[i] / a.biasCorr1 / (Math.sqrt(this.v[i] / a.biasCorr2) + a.eps));
        this.grads[i] = 0;
      }
      return norm;
    }
    deviceBytes() { return 0; }
    peakBytes() { return 0; }
    dispose() {}
  }
  return { abiVersion: 1, probe: () => ({ builtWithCuda: true, available: true, reason: '', name: 'fake' }), CudaSession: FakeSession, sessions };
}
