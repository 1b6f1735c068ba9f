// A small protobuf encoder for the ONNX messages we emit (onnx.proto3 field numbers in comments). Messages are
// built as lists of byte chunks so multi-hundred-MB initializers are copied once, at the final concatenation.

export const enum DataType {
  FLOAT = 1,
  UINT8 = 2,
  INT8 = 3,
  INT32 = 6,
  INT64 = 7,
  BOOL = 9,
  FLOAT16 = 10,
  DOUBLE = 11,
  BFLOAT16 = 16,
}

const enum AttrType {
  FLOAT = 1,
  INT = 2,
  STRING = 3,
  TENSOR = 4,
  FLOATS = 6,
  INTS = 7,
}

/** A message under construction: chunks plus their total length. */
export class Msg {
  parts: Uint8Array[] = [];
  length = 0;
  private push(b: Uint8Array): void {
    this.parts.push(b);
    this.length += b.length;
  }
  private varint(v: number | bigint): void {
    let x = BigInt.asUintN(64, BigInt(v)); // negatives: two's complement, 10 bytes, as protobuf int64
    const out: number[] = [];
    if (typeof v === 'number' && v >= 0 && v < 2 ** 31) {
      let n = v;
      while (n > 0x7f) {
        out.push((n & 0x7f) | 0x80);
        n >>>= 7;
      }
      out.push(n);
    } else {
      while (x > 0x7fn) {
        out.push(Number(x & 0x7fn) | 0x80);
        x >>= 7n;
      }
      out.push(Number(x));
    }
    this.push(Uint8Array.from(out));
  }
  private tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }
  int(field: number, v: number | bigint): this {
    this.tag(field, 0);
    this.varint(v);
    return this;
  }
  float(field: number, v: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
    return this;
  }
  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2);
    this.varint(b.length);
    this.push(b);
    return this;
  }
  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  msg(field: number, m: Msg): this {
    this.tag(field, 2);
    this.varint(m.length);
    for (const p of m.parts) this.push(p);
    return this;
  }
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

export interface TensorInit {
  name: string;
  type: DataType;
  dims: number[];
  raw?: Uint8Array; // little-endian raw bytes
  external?: { location: string; offset: number; length: number };
}

// TensorProto: dims=1, data_type=2, name=8, raw_data=9, external_data=13, data_location=14 (EXTERNAL = 1)
export function tensorProto(t: TensorInit): Msg {
  const m = new Msg();
  for (const d of t.dims) m.int(1, d);
  m.int(2, t.type).string(8, t.name);
  if (t.external) {
    for (const [k, v] of [['location', t.external.location], ['offset', String(t.external.offset)], ['length', String(t.external.length)]])
      m.msg(13, new Msg().string(1, k).string(2, v));
    m.int(14, 1);
  } else m.bytes(9, t.raw ?? new Uint8Array(0));
  return m;
}

export type AttrValue = number | string | number[] | { float: number } | { floats: number[] } | { tensor: TensorInit };

// AttributeProto: name=1, f=2, i=3, s=4, t=5, floats=7, ints=8, type=20
function attributeProto(name: string, v: AttrValue): Msg {
  const m = new Msg().string(1, name);
  if (typeof v === 'number') m.int(3, v).int(20, AttrType.INT);
  else if (typeof v === 'string') m.string(4, v).int(20, AttrType.STRING);
  else if (Array.isArray(v)) {
    for (const i of v) m.int(8, i);
    m.int(20, AttrType.INTS);
  } else if ('float' in v) m.float(2, v.float).int(20, AttrType.FLOAT);
  else if ('floats' in v) {
    for (const f of v.floats) m.float(7, f);
    m.int(20, AttrType.FLOATS);
  } else m.msg(5, tensorProto(v.tensor)).int(20, AttrType.TENSOR);
  return m;
}

export interface NodeDef {
  op: string;
  inputs: string[];
  outputs: string[];
  name: string;
  attrs?: Record<string, AttrValue>;
  domain?: string;
}

// NodeProto: input=1, output=2, name=3, op_type=4, attribute=5, domain=7
function nodeProto(n: NodeDef): Msg {
  const m = new Msg();
  for (const i of n.inputs) m.string(1, i);
  for (const o of n.outputs) m.string(2, o);
  m.string(3, n.name).string(4, n.op);
  for (const [k, v] of Object.entries(n.attrs ?? {})) m.msg(5, attributeProto(k, v));
  if (n.domain) m.string(7, n.domain);
  return m;
}

export interface ValueInfo {
  name: string;
  type: DataType;
  dims?: (number | string)[]; // a string is a symbolic dimension; undefined = shape not declared
}

// ValueInfoProto: name=1, type=2; TypeProto.tensor_type=1; Tensor: elem_type=1, shape=2; Shape.dim=1;
// Dimension: dim_value=1, dim_param=2
function valueInfoProto(v: ValueInfo): Msg {
  const tensorType = new Msg().int(1, v.type);
  if (v.dims) {
    const shape = new Msg();
    for (const d of v.dims) shape.msg(1, typeof d === 'number' ? new Msg().int(1, d) : new Msg().string(2, d));
    tensorType.msg(2, shape);
  }
  return new Msg().string(1, v.name).msg(2, new Msg().msg(1, tensorType));
}

export interface GraphDef {
  name: string;
  nodes: NodeDef[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers: TensorInit[];
}

export interface ModelDef {
  graph: GraphDef;
  opsets: { domain: string; version: number }[];
  irVersion: number;
}

// GraphProto: node=1, name=2, initializer=5, input=11, output=12.
// ModelProto: ir_version=1, producer_name=2, producer_version=3, graph=7, opset_import=8 (domain=1, version=2)
export function encodeModel(def: ModelDef): Uint8Array {
  const g = new Msg();
  for (const n of def.graph.nodes) g.msg(1, nodeProto(n));
  g.string(2, def.graph.name);
  for (const t of def.graph.initializers) g.msg(5, tensorProto(t));
  for (const i of def.graph.inputs) g.msg(11, valueInfoProto(i));
  for (const o of def.graph.outputs) g.msg(12, valueInfoProto(o));
  const m = new Msg().int(1, def.irVersion).string(2, 'lora-studio').string(3, '0.1.0').msg(7, g);
  for (const o of def.opsets) m.msg(8, new Msg().string(1, o.domain).int(2, o.version));
  return m.toBytes();
}
