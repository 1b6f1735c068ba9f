// An encoder's task model as an ONNX folder in the layout transformers.js and Optimum load:
//   <out>/config.json          the task model's config (architectures, id2label / label2id)
//   <out>/<tokenizer files>    copied from the base
//   <out>/onnx/model.onnx      inputs input_ids, attention_mask (int64 [batch_size, sequence_length]) and, for
//                              BERT and ELECTRA, token_type_ids; outputs logits [batch_size, num_labels] (classification),
//                              start_logits / end_logits [batch_size, sequence_length] (QA), logits
//                              [batch_size, sequence_length, vocab] (masked LM), last_hidden_state (base)
// The weights are the base merged with its adapters (formats/merge: LoRA added into each weight, the adapter's head
// replacing the base's), and the graph is the ONNX executor's own forward lowering of the family's program with the
// batch inputs (positions, padding bias, token types) computed inside it from the two masks a browser passes.

import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { readAdapter, type LoraAdapter } from '../../formats/peft/index.ts';
import { mergedTensorReader } from '../../formats/merge/index.ts';
import { moveIntoPlace, openMergeBase, type AdapterSource } from '../../formats/export/hf.ts';
import { explainWriteError, guardOutput, physicalPath, type GuardedInput } from '../../formats/output-guard.ts';
import { buildProgramFromSpec } from '../../model/families/index.ts';
import { isEncoderSpec, taskModelConfig } from '../../model/families/bert/task.ts';
import type { EncoderSpec } from '../../model/families/bert/spec.ts';
import type { ModelSpec } from '../../model/spec.ts';
import type { Program } from '../../model/ir.ts';
import { fromStored } from '../models/load.ts';
import { GraphBuilder } from '../executors/onnx/builder.ts';
import { DataType, encodeModel, type ModelDef } from '../executors/onnx/proto.ts';
import { declareFrozenWeights, declareTokenInputs, graphLowerCtx, stepGraphFrozen } from '../executors/onnx/graphs.ts';
import { lowerForward } from '../executors/onnx/lowering.ts';
import type { BatchValues } from '../executors/onnx/lower/context.ts';

export interface OnnxExportOptions {
  baseDir: string;
  adapters?: AdapterSource[];
  outDir: string;
  /** Replace a previous ONNX export at outDir (never anything else: output-guard.ts). */
  overwrite?: boolean;
  protect?: GuardedInput[];
}

export interface OnnxExportResult {
  outDir: string;
  files: string[];
  inputs: string[];
  outputs: string[];
}

/** Padding keys get this added to their attention scores: exp underflows to 0, and no row is all padding. */
const MASKED = -1e30;

/** The program's forward as a self-contained inference graph over Optimum's inputs (float32). */
export function buildEncoderExportGraph(
  p: Program,
  spec: EncoderSpec,
  weight: (name: string) => Float32Array,
): ModelDef {
  const g = new GraphBuilder('float32');
  const { ids, shapeBT } = declareTokenInputs(g, p); // input_ids (B, T) int64
  const mask = g.input('attention_mask', DataType.INT64, ['B', 'T']);
  const withTypes = spec.typeVocabSize > 1; // BERT, ELECTRA; Optimum leaves it out of RoBERTa / XLM-R (one type) and DistilBERT
  const typeInput = withTypes ? g.input('token_type_ids', DataType.INT64, ['B', 'T']) : null;
  const zero = g.i64([0]);
  const axis1 = g.initializer(g.fresh('axis1'), DataType.INT64, [], new Uint8Array(BigInt64Array.of(1n).buffer));
  // positions count the sequence's tokens from 0 (right padding: position t at column t), as the engine's batches
  const ones = g.add(g.mul(mask, zero), g.i64([1]));
  const positions = g.reshape(g.sub(g.op('CumSum', [ones, axis1]), g.i64([1])), [-1]);
  const padding = g.mul(g.sub(g.scalar(1), g.op('Cast', [mask], { to: DataType.FLOAT })), g.scalar(MASKED));
  const bias = g.op('Unsqueeze', [padding, g.i64([1, 2])]); // (B, 1, 1, T), broadcast over heads and queries
  const batch: BatchValues = {
    ids,
    shapeBT,
    cos: null,
    sin: null,
    positions: () => positions,
    tokenTypes: () => (typeInput ? g.reshape(typeInput, [-1]) : g.mul(ids, zero)),
    bias: () => bias,
    labelIdx: '', // no loss in an inference graph
    labelValid: '',
    dropMask: () => null,
  };
  const frozen = declareFrozenWeights(g, p, 'float32', weight, { where: 'ONNX export', ...stepGraphFrozen(p) });
  const ctx = graphLowerCtx(g, p, batch, frozen, 'ONNX export', {
    needsGrad: () => false,
    addGrad: () => {},
    grad: () => undefined,
  });
  lowerForward(ctx, p.nodes);
  const out = ctx.value(p.logits); // (N, W)
  const W = p.vocab;
  const perToken = g.reshape(out, g.op('Concat', [shapeBT, g.i64([W])], { axis: 0 })); // (B, T, W)
  const task = spec.head.task;
  if (task === 'sequence_classification') {
    const first = g.initializer(g.fresh('row0'), DataType.INT64, [], new Uint8Array(BigInt64Array.of(0n).buffer));
    g.output('logits', g.op('Gather', [perToken, first], { axis: 1 }), DataType.FLOAT, ['batch_size', W]);
  } else if (task === 'question_answering') {
    const [s, e] = g.node('Split', [perToken, g.i64([1, 1])], { axis: 2 }, 2);
    g.output('start_logits', g.op('Squeeze', [s, g.i64([2])]), DataType.FLOAT, ['batch_size', 'sequence_length']);
    g.output('end_logits', g.op('Squeeze', [e, g.i64([2])]), DataType.FLOAT, ['batch_size', 'sequence_length']);
  } else
    g.output(task === 'masked_lm' ? 'logits' : 'last_hidden_state', perToken, DataType.FLOAT, [
      'batch_size',
      'sequence_length',
      W,
    ]);
  return g.model(`lora-studio-${spec.family}-${task}`);
}

/** Base (+ adapters, merged) → an ONNX model folder; built beside the target and renamed into place. */
export async function exportEncoderOnnx(o: OnnxExportOptions): Promise<OnnxExportResult> {
  const outDir = await physicalPath(o.outDir);
  await guardOutput({
    out: outDir,
    kind: 'onnx-model',
    inputs: [
      { path: o.baseDir, role: 'base model' },
      ...(o.adapters ?? []).map((a) => (typeof a.adapter === 'string' ? { path: a.adapter, role: 'adapter' } : null)),
      ...(o.protect ?? []),
    ],
    overwrite: o.overwrite,
  });
  const model = await openMergeBase(o.baseDir, o.adapters ?? []);
  const tmp = join(dirname(outDir), `.${basename(outDir)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const spec = model.spec as ModelSpec;
    if (!isEncoderSpec(spec))
      throw new Error(
        `${o.baseDir}: ${spec.architecture} is not an encoder; the ONNX export is for BERT, DistilBERT and RoBERTa task models`,
      );
    const adapters: { adapter: LoraAdapter; weight?: number }[] = [];
    for (const a of o.adapters ?? [])
      adapters.push({
        adapter: typeof a.adapter === 'string' ? await readAdapter(a.adapter, spec) : a.adapter,
        weight: a.weight,
      });
    const missing = model.created.filter((n) => !adapters.some((a) => a.adapter.extra.has(`base_model.model.${n}`)));
    if (missing.length)
      throw new Error(
        `${o.baseDir} has no ${missing.join(', ')} and no adapter brings ${missing.length > 1 ? 'them' : 'it'}: export the adapter trained with this head`,
      );
    const read = mergedTensorReader(model, adapters);
    const program = buildProgramFromSpec(spec);
    const weights = new Map<string, Float32Array>();
    for (const d of program.params) weights.set(d.name, fromStored(program, d.name, await read(d.name)));
    const def = buildEncoderExportGraph(program, spec, (n) => weights.get(n)!);
    await mkdir(join(tmp, 'onnx'), { recursive: true });
    await writeFile(join(tmp, 'onnx', 'model.onnx'), encodeModel(def));
    await writeFile(
      join(tmp, 'config.json'),
      JSON.stringify({ ...taskModelConfig(model.config, spec), torch_dtype: 'float32' }, null, 2) + '\n',
    );
    for (const f of model.tokenizerFiles) await copyFile(join(model.dir, f), join(tmp, f));
    await model.close();
    await moveIntoPlace(tmp, outDir, o.overwrite ?? false, 'onnx-model');
    return {
      outDir,
      files: ['config.json', ...model.tokenizerFiles, 'onnx/model.onnx'],
      inputs: def.graph.inputs.map((i) => i.name),
      outputs: def.graph.outputs.map((i) => i.name),
    };
  } catch (e) {
    await model.close().catch(() => {});
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
    throw explainWriteError(e, outDir);
  }
}
