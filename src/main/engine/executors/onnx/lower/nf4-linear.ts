// NF4 base weights (QLoRA) in the ONNX graphs. The weight W (OC, IC) lives in the graph only as its packed codes
// (uint8, two per byte, first element in the high nibble) and one float absmax per block of 64.
// Forward (float32): com.microsoft.MatMulBnb4 with transB=1 (y = x·Wᵀ), which matches a float reference on the
// CPU. Input gradient (and the float64 forward): W is dequantized on the fly with standard ops — a Gather of the
// byte into a (256, 2) table of code pairs, times each block's absmax — then an ordinary MatMul. MatMulBnb4 with
// transB=0 is never used: its CPU kernel is wrong (see shared/DESIGN.md).
// The bytes pass through BitwiseAnd with a runtime 0xFF before the Cast: without a runtime input in the chain,
// ORT's constant folding would precompute every dequantized weight at load and keep it as a float32 initializer,
// which is exactly the memory QLoRA exists to save.
import type { Nf4Tensor } from '../../../quant/nf4.ts';
import { NF4_CODE } from '../../../quant/nf4.ts';
import { DataType } from '../proto.ts';
import type { GraphBuilder } from '../builder.ts';

export interface Nf4Values {
  codes: string; // uint8 (ceil(OC·IC / 2))
  absmax: string; // float (blocks)
  OC: number;
  IC: number;
  blockSize: number;
}

export const NF4_BYTE_MASK_INPUT = 'nf4_byte_mask';

/** Registers an NF4 weight's initializers. */
export function nf4Initializers(g: GraphBuilder, name: string, t: Nf4Tensor): Nf4Values {
  const [OC, IC] = t.shape;
  if ((OC * IC) % t.blockSize !== 0) throw new Error(`NF4 weight ${name}: ${OC}×${IC} values are not a whole number of ${t.blockSize}-value blocks`);
  const codes = g.initializer(`${name}.nf4_codes`, DataType.UINT8, [t.codes.length], t.codes);
  const absmax = g.floatInit(`${name}.nf4_absmax`, [t.absmax.length], t.absmax);
  return { codes, absmax, OC, IC, blockSize: t.blockSize };
}

/** (256, 2) float table: row b = [code[b >> 4], code[b & 15]], the two values a packed byte stands for. */
function pairTable(g: GraphBuilder): string {
  const existing = g.initializers.find((t) => t.name === 'nf4_pair_table');
  if (existing) return existing.name;
  const pairs = new Float64Array(512);
  for (let b = 0; b < 256; b++) {
    pairs[2 * b] = NF4_CODE[b >> 4];
    pairs[2 * b + 1] = NF4_CODE[b & 15];
  }
  return g.floatInit('nf4_pair_table', [256, 2], pairs);
}

/** The byte-mask graph input (uint8 scalar fed as 0xFF), declared once. */
function byteMask(g: GraphBuilder): string {
  if (!g.inputs.some((i) => i.name === NF4_BYTE_MASK_INPUT)) g.input(NF4_BYTE_MASK_INPUT, DataType.UINT8, []);
  return NF4_BYTE_MASK_INPUT;
}

/** W (OC, IC) in the graph's float type, dequantized from the codes and absmax. */
export function nf4Dequantize(g: GraphBuilder, w: Nf4Values): string {
  const bytes = g.op('BitwiseAnd', [w.codes, byteMask(g)]);
  const idx = g.op('Cast', [bytes], { to: DataType.INT32 });
  const vals = g.op('Gather', [pairTable(g), idx], { axis: 0 }); // (n/2, 2)
  const blocks = g.reshape(vals, [-1, w.blockSize]); // (blocks, blockSize)
  const scaled = g.mul(blocks, g.op('Unsqueeze', [w.absmax, g.i64([1])]));
  return g.reshape(scaled, [w.OC, w.IC]);
}

/** y (N, OC) = x (N, IC)·Wᵀ [+ bias]. */
export function nf4MatMul(g: GraphBuilder, x: string, w: Nf4Values, bias: string | null): string {
  let y: string;
  if (g.elem === 'float32') {
    y = g.fresh('MatMulBnb4');
    g.nodes.push({
      op: 'MatMulBnb4', domain: 'com.microsoft', name: g.fresh('n_MatMulBnb4'), inputs: [x, w.codes, w.absmax], outputs: [y],
      attrs: { K: w.IC, N: w.OC, block_size: w.blockSize, quant_type: 1, transB: 1 },
    });
    g.useDomain('com.microsoft');
  } else y = g.op('Gemm', [x, nf4Dequantize(g, w)], { transB: 1 });
  return bias ? g.add(y, bias) : y;
}
