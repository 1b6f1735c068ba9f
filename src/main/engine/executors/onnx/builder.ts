// Builds an ONNX graph node by node with unique value names, cached constants and an element type chosen once
// (float32 for training, float64 for tight checks against the reference executor).

import { DataType, type AttrValue, type GraphDef, type ModelDef, type NodeDef, type TensorInit, type ValueInfo } from './proto.ts';
import { castHalfInitializers, type WeightFile } from './weight-file.ts';

export type Elem = 'float32' | 'float64';
export const OPSET = 18; // Reduce* take axes as an input from 18 on, uniformly
export const IR_VERSION = 8;

export function floatBytes(data: ArrayLike<number>, elem: Elem): Uint8Array {
  // a Float32Array headed for a float32 graph is used as is: base weights can be hundreds of MB
  const arr = elem === 'float32' && data instanceof Float32Array ? data : elem === 'float64' ? Float64Array.from(data) : Float32Array.from(data);
  return new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
}

export class GraphBuilder {
  readonly nodes: NodeDef[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  readonly initializers: TensorInit[] = [];
  private counter = 0;
  private consts = new Map<string, string>();
  private domains = new Set<string>(); // operator sets beyond the default one (e.g. com.microsoft)
  private half = new Set<string>(); // stored float16/bfloat16 initializers, widened per reading node in model()
  readonly ft: DataType;

  /** weightFile: where frozen tensors go (storedInit) instead of inline, shared by every graph built with it. */
  constructor(readonly elem: Elem, readonly weightFile?: WeightFile) {
    this.ft = elem === 'float64' ? DataType.DOUBLE : DataType.FLOAT;
  }

  fresh(prefix: string): string {
    return `${prefix}__${this.counter++}`;
  }

  /** Adds a node; returns its output names (fresh unless given). */
  node(op: string, inputs: string[], attrs?: Record<string, AttrValue>, nOut = 1, outNames?: string[]): string[] {
    const outputs = outNames ?? Array.from({ length: nOut }, () => this.fresh(op));
    this.nodes.push({ op, inputs, outputs, name: this.fresh(`n_${op}`), attrs });
    return outputs;
  }
  op(op: string, inputs: string[], attrs?: Record<string, AttrValue>): string {
    return this.node(op, inputs, attrs)[0];
  }

  input(name: string, type: DataType, dims: (number | string)[]): string {
    this.inputs.push({ name, type, dims });
    return name;
  }
  /** Declares `value` as a graph output called `name` (through an Identity when the names differ). */
  output(name: string, value: string, type: DataType, dims?: (number | string)[]): void {
    if (value !== name) this.node('Identity', [value], undefined, 1, [name]);
    this.outputs.push({ name, type, dims });
  }
  initializer(name: string, type: DataType, dims: number[], raw: Uint8Array): string {
    this.initializers.push({ name, type, dims, raw });
    return name;
  }
  floatInit(name: string, dims: number[], data: ArrayLike<number>): string {
    return this.initializer(name, this.ft, dims, floatBytes(data, this.elem));
  }
  /**
   * A frozen tensor of the graph's float type: external data in the weight file when the builder has one — `data`
   * is then called only if no earlier graph stored `name` — else inline.
   */
  storedFloatInit(name: string, dims: number[], data: () => ArrayLike<number>): string {
    if (!this.weightFile) return this.floatInit(name, dims, data());
    const stored = this.weightFile.get(name);
    const { external, type } = this.weightFile.putFloats(name, stored ? [] : data(), this.elem);
    this.initializers.push({ name, type, dims, external });
    if (type !== this.ft) this.half.add(name);
    return name;
  }

  /** Whether `name` is a frozen tensor stored as float16/bfloat16 (widened per reading node in model()). */
  isHalf(name: string): boolean {
    return this.half.has(name);
  }

  /** An int64 constant tensor (1-D), cached. */
  i64(values: number[]): string {
    const key = `i64:${values.join(',')}`;
    let name = this.consts.get(key);
    if (!name) {
      name = this.fresh('const_i64');
      const a = BigInt64Array.from(values.map(BigInt));
      this.initializer(name, DataType.INT64, [values.length], new Uint8Array(a.buffer));
      this.consts.set(key, name);
    }
    return name;
  }
  /** A scalar constant of the graph's float type, cached. */
  scalar(v: number): string {
    const key = `f:${v}`;
    let name = this.consts.get(key);
    if (!name) {
      name = this.fresh('const_f');
      this.initializer(name, this.ft, [], floatBytes([v], this.elem));
      this.consts.set(key, name);
    }
    return name;
  }

  /** Declares that a node of another operator set is used (its opset import is added to the model). */
  useDomain(domain: string): void {
    this.domains.add(domain);
  }

  // Short forms of the ops the lowerings use most.
  add = (a: string, b: string) => this.op('Add', [a, b]);
  sub = (a: string, b: string) => this.op('Sub', [a, b]);
  mul = (a: string, b: string) => this.op('Mul', [a, b]);
  div = (a: string, b: string) => this.op('Div', [a, b]);
  matmul = (a: string, b: string) => this.op('MatMul', [a, b]);
  transpose = (x: string, perm: number[]) => this.op('Transpose', [x], { perm });
  reshape = (x: string, shape: number[] | string) => this.op('Reshape', [x, typeof shape === 'string' ? shape : this.i64(shape)]);
  reduceSum = (x: string, axes: number[], keepdims = 1) => this.op('ReduceSum', [x, this.i64(axes)], { keepdims });
  reduceMean = (x: string, axes: number[], keepdims = 1) => this.op('ReduceMean', [x, this.i64(axes)], { keepdims });
  reduceMax = (x: string, axes: number[], keepdims = 1) => this.op('ReduceMax', [x, this.i64(axes)], { keepdims });

  model(name: string): ModelDef {
    if (this.half.size) {
      const chunk = this.weightFile?.chunkElems;
      this.inputs.push(...castHalfInitializers(this.nodes, this.initializers, this.half, (p) => this.fresh(p), (v) => this.i64(v), chunk));
      this.half.clear();
    }
    const graph: GraphDef = { name, nodes: this.nodes, inputs: this.inputs, outputs: this.outputs, initializers: this.initializers };
    return { graph, opsets: [{ domain: '', version: OPSET }, ...[...this.domains].map((domain) => ({ domain, version: 1 }))], irVersion: IR_VERSION };
  }
}
