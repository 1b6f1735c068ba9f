// What a CUDA training session will hold on the device, before it allocates anything, and what to tell the user
// when the device is full: the biggest consumers with the setting that shrinks each (batch × sequence length for
// activations, gradient checkpointing, QLoRA for the base weights).

import type { Program } from '../../../model/ir.ts';
import { headChunkBytes, lowerProgram, planSlotBytes, trainableOffsets } from '../plan/plan.ts';

export interface MemoryOptions {
  dtype: 'bf16' | 'f32';
  capacityTokens: number; // batch size × sequence length
  qlora: boolean;
  checkpointing: boolean;
  chunkRows?: number;
}

export interface MemoryEstimate {
  weights: number; // frozen base weights (bf16, or NF4 + double-quantized absmax for linear layers)
  activations: number; // the train plan's slots for capacityTokens
  lora: number; // trainables, gradients, two AdamW moments (f32)
  scratch: number; // LM-head logits chunk, one dequantized NF4 weight, staging
  total: number;
}

/** Linear weights that QLoRA stores as NF4: every linear except the LM head (kept dense, as bitsandbytes does). */
export function nf4WeightNames(p: Program): Set<string> {
  const head = p.nodes[p.nodes.length - 1];
  const names = new Set<string>();
  for (const n of p.nodes) if (n.op === 'linear' && n !== head) names.add(n.weight);
  if (head && head.op === 'linear') names.delete(head.weight); // tied embeddings: the table stays dense
  return names;
}

/** Weights the session holds as NF4: those the program marks (quant/program.ts), and with `qlora` every linear but the head. */
export function heldAsNf4(p: Program, qlora: boolean): Set<string> {
  const names = new Set(p.params.filter((d) => d.quant === 'nf4').map((d) => d.name));
  const trained = new Set(p.params.filter((d) => d.trainable).map((d) => d.name)); // modules_to_save heads stay f32 masters
  if (qlora) for (const n of nf4WeightNames(p)) if (!trained.has(n)) names.add(n);
  return names;
}

export function estimateCudaMemory(p: Program, o: MemoryOptions): MemoryEstimate {
  const act = o.dtype === 'bf16' ? 2 : 4;
  const nf4 = heldAsNf4(p, o.qlora);
  let weights = 0;
  let largestNf4 = 0;
  let largest = 0;
  for (const d of p.params) {
    if (d.trainable) continue;
    const n = d.shape.reduce((a, b) => a * b, 1);
    largest = Math.max(largest, n);
    if (nf4.has(d.name)) {
      weights += n / 2 + n / 64 + (n / 64 / 256) * 4 + 4; // codes, 8-bit absmax, absmax2, offset
      largestNf4 = Math.max(largestNf4, n);
    } else weights += n * act;
  }
  const plan = lowerProgram(p, { mode: 'train', checkpointing: o.checkpointing, chunkRows: o.chunkRows });
  const activations = planSlotBytes(plan, o.capacityTokens, o.dtype);
  const lora = trainableOffsets(p).total * 4 * 4 + trainableOffsets(p).total;
  const staging = Math.min(largest, 64 * 2 ** 20) * 4;
  // a linear weight or bias that trains in full is cast from its f32 master into one scratch (weight, then bias)
  const trained = new Set(p.params.filter((d) => d.trainable).map((d) => d.name));
  const trainedHead = Math.max(0, ...p.nodes.flatMap((n) => (n.op === 'linear' && (trained.has(n.weight) || (n.bias !== null && trained.has(n.bias))) ? [n.outF * n.inF + n.outF] : [])));
  const scratch = headChunkBytes(plan, o.dtype) + largestNf4 * act + staging + (largestNf4 / 64) * 4 + trainedHead * act;
  return { weights, activations, lora, scratch, total: weights + activations + lora + scratch };
}

const gib = (b: number) => (b >= 2 ** 30 ? `${(b / 2 ** 30).toFixed(1)} GiB` : `${(b / 2 ** 20).toFixed(b < 10 * 2 ** 20 ? 1 : 0)} MiB`);

export interface OomContext {
  program: Program;
  options: MemoryOptions;
  batch?: { B: number; T: number };
  allocating?: string;
  freeBytes?: number;
  totalBytes?: number;
}

/** The message a run fails with on CUDA out-of-memory: what did not fit and which setting to change. */
export function oomAdvice(c: OomContext): string {
  const e = estimateCudaMemory(c.program, c.options);
  const parts = [`CUDA out of memory${c.allocating ? ` while allocating ${c.allocating}` : ''}`];
  if (c.totalBytes) parts[0] += ` (${gib(c.freeBytes ?? 0)} free of ${gib(c.totalBytes)})`;
  parts[0] += '.';
  parts.push(`This run needs about ${gib(e.total)}: base weights ${gib(e.weights)}, activations ${gib(e.activations)} for ${c.options.capacityTokens} tokens per micro-batch${c.batch ? ` (batch ${c.batch.B} × sequence length ${c.batch.T})` : ''}, LoRA + optimizer ${gib(e.lora)}, scratch ${gib(e.scratch)}.`);
  const fixes: string[] = [`lower the batch size or the maximum sequence length (activations grow with batch × sequence length; use gradient accumulation to keep the effective batch)`];
  if (!c.options.checkpointing) {
    const saved = e.activations - estimateCudaMemory(c.program, { ...c.options, checkpointing: true }).activations;
    fixes.push(`turn on gradient checkpointing (saves about ${gib(saved)})`);
  }
  if (!c.options.qlora && heldAsNf4(c.program, false).size === 0) {
    const saved = e.weights - estimateCudaMemory(c.program, { ...c.options, qlora: true }).weights;
    fixes.push(`use QLoRA (4-bit NF4 base weights: saves about ${gib(saved)})`);
  }
  parts.push(`To fit: ${fixes.join('; or ')}.`);
  return parts.join(' ');
}

/** An out-of-memory failure of the CUDA executor; `message` already says what to change. */
export class CudaOutOfMemoryError extends Error {
  readonly code = 'CUDA_OOM';
  constructor(message: string, readonly estimate: MemoryEstimate) {
    super(message);
    this.name = 'CudaOutOfMemoryError';
  }
}
