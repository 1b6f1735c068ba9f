// The only file that imports onnxruntime-node. Creates sessions from our ModelDefs (in memory, or through a
// temporary external-data file when the weights would pass protobuf's 2 GB cap) and runs them on typed arrays.

import * as ort from 'onnxruntime-node';
import { mkdtempSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { encodeModel, type ModelDef } from './proto.ts';
import { parseWorkerThreads, WORKER_THREADS_ENV } from '../../../../common/worker-protocol.ts';
import { BASE_CAST_INPUT } from './weight-file.ts';

export type Feed = Float32Array | Float64Array | BigInt64Array | Uint8Array;
export interface FeedTensor {
  data: Feed;
  dims: number[];
  /** ONNX bool instead of uint8 for Uint8Array data (one byte per flag alike). */
  bool?: true;
}

/** Threads for a session that names none: the studio's Settings (LORA_STUDIO_THREADS, set per job), else all CPU threads. */
export function defaultThreads(env: NodeJS.ProcessEnv = process.env): number {
  return parseWorkerThreads(env[WORKER_THREADS_ENV]) ?? availableParallelism();
}

const INLINE_LIMIT = 1.5 * 2 ** 30; // protobuf messages cap at 2 GB; leave room for everything else
/** Model files written beside a weight file so far (each graph loaded from there gets a name of its own). */
let modelFiles = 0;

export interface OrtOptions {
  threads?: number;
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
  /** Initializer bytes above which weights go through an external-data file (default 1.5 GiB). */
  inlineLimitBytes?: number;
  /** Write ORT's per-node profile (JSON) with this file prefix; for bench/profile work. */
  profilePrefix?: string;
  /** The folder of the weight file the graph's external data names (weight-file.ts): the model is loaded from there. */
  weightDir?: string;
  /**
   * Pre-pack constant GEMM operands (default true). Each MatMul/Gemm then keeps its own packed copy of its weight,
   * and a training graph reads every frozen weight twice (y = x·Wᵀ forward, dx = dy·W backward): two more copies of
   * the base beside the mapped one. Off, MLAS packs per call instead.
   */
  prepack?: boolean;
  /**
   * Plan one block for all intermediate tensors after the first run (default true). With the arena on, that block
   * comes on top of the arena the first run grew: at seq 128 on the SmolLM2 widths, 100 MB more peak for no
   * measurable speed, so training graphs turn it off.
   */
  memPattern?: boolean;
}

export class OrtGraph {
  /** Inputs the graph declares for itself, fed on every run (a half base's widening shapes, weight-file.ts). */
  private fixed: Record<string, ort.Tensor> = {};

  private constructor(private readonly session: ort.InferenceSession) {}

  static async create(def: ModelDef, opts: OrtOptions = {}): Promise<OrtGraph> {
    const g = await OrtGraph.open(def, opts);
    for (const i of def.graph.inputs)
      if (i.name.startsWith(BASE_CAST_INPUT)) g.fixed[i.name] = new ort.Tensor('int64', BigInt64Array.of(-1n), [1]);
    return g;
  }

  private static async open(def: ModelDef, opts: OrtOptions): Promise<OrtGraph> {
    const sessionOptions: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: opts.threads ?? defaultThreads(),
      interOpNumThreads: 1,
      executionMode: 'sequential',
      enableMemPattern: opts.memPattern ?? true,
      graphOptimizationLevel: opts.optimization ?? 'all',
      logSeverityLevel: 3, // errors only: shape-merge notices on symbolic dims are expected
      // Spinning workers wait on each other when a core is busy elsewhere (a desktop: the UI, other apps), and a
      // step's many barriers then cost whole scheduler slices. Training steps are GEMM-bound: yield instead.
      extra: {
        session: {
          intra_op: { allow_spinning: process.env.LORA_STUDIO_ORT_SPIN === '1' ? '1' : '0' },
          ...(opts.prepack === false ? { disable_prepacking: '1' } : {}),
        },
      },
      ...(opts.profilePrefix ? { enableProfiling: true, profileFilePrefix: opts.profilePrefix } : {}),
    };
    if (opts.weightDir) {
      // external data is resolved relative to the model file: write it beside the weights, load, and drop it
      // a name of its own: graphs sharing a weight folder (weight-file.ts shareFrom) may be loaded at the same time
      const file = join(opts.weightDir, `${def.graph.name}-${++modelFiles}.onnx`);
      writeFileSync(file, encodeModel(def));
      try {
        return new OrtGraph(await ort.InferenceSession.create(file, sessionOptions));
      } finally {
        rmSync(file, { force: true });
      }
    }
    const rawBytes = def.graph.initializers.reduce((s, t) => s + (t.raw?.length ?? 0), 0);
    if (rawBytes < (opts.inlineLimitBytes ?? INLINE_LIMIT)) return new OrtGraph(await ort.InferenceSession.create(encodeModel(def), sessionOptions));
    // Large: big initializers go to weights.bin beside model.onnx; ORT resolves locations relative to the model.
    const dir = mkdtempSync(join(tmpdir(), 'lora-studio-onnx-'));
    try {
      const fd = openSync(join(dir, 'weights.bin'), 'w');
      let offset = 0;
      const initializers = def.graph.initializers.map((t) => {
        if (!t.raw || t.raw.length < 4096) return t;
        writeSync(fd, t.raw);
        const ext = { ...t, raw: undefined, external: { location: 'weights.bin', offset, length: t.raw.length } };
        offset += t.raw.length;
        return ext;
      });
      closeSync(fd);
      writeFileSync(join(dir, 'model.onnx'), encodeModel({ ...def, graph: { ...def.graph, initializers } }));
      return new OrtGraph(await ort.InferenceSession.create(join(dir, 'model.onnx'), sessionOptions));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  async run(feeds: Record<string, FeedTensor>): Promise<Record<string, { data: Feed; dims: readonly number[] }>> {
    const inputs: Record<string, ort.Tensor> = { ...this.fixed };
    for (const [k, f] of Object.entries(feeds)) {
      const type = f.data instanceof Float32Array ? 'float32' : f.data instanceof Float64Array ? 'float64' : f.data instanceof Uint8Array ? (f.bool ? 'bool' : 'uint8') : 'int64';
      inputs[k] = new ort.Tensor(type, f.data, f.dims);
    }
    const out = await this.session.run(inputs);
    const res: Record<string, { data: Feed; dims: readonly number[] }> = {};
    for (const [k, t] of Object.entries(out)) res[k] = { data: t.data as Feed, dims: t.dims };
    return res;
  }

  endProfiling(): void {
    this.session.endProfiling();
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
