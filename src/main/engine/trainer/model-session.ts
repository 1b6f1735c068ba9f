// Opens a training session for a run: a Hugging Face model folder (formats/model) → the family's program
// (model/families: Llama-style, GPT-2, Gemma 3) → the method's view of it → the named executor's TrainingSession
// (executors/index.ts: cpu, cuda or auto), plus the writer of what the run produces:
//   lora   LoRA attached to a float base; writes a PEFT adapter (formats/peft) with the run's training template.
//   qlora  the same, over a base whose linear weights are NF4 (quant/), quantized as they are read.
//   full   every weight trainable; writes a full Hugging Face model folder (safetensors F32, config.json,
//          generation config, tokenizer files). With from_scratch the weights start random from config.json.
import { copyFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunConfig } from '../../../common/api/runs.ts';
import { openModelFolder, readModelSpec, tensorTable, TOKENIZER_FILES, type ModelSpec } from '../../formats/model/index.ts';
import { adapterFromTensors, loraConfigForRun, writeAdapter, type TrainingTemplate } from '../../formats/peft/index.ts';
import { writeShardedSafetensors } from '../../formats/safetensors/index.ts';
import { countParams } from '../../model/ir.ts';
import { buildProgramFromSpec } from '../../model/families/index.ts';
import { fullFineTuneProgram, initProgramWeights } from '../models/index.ts';
import { checkpointBaseDtype, programWeightReader, toStored } from '../models/load.ts';
import { quantizeProgram } from '../quant/program.ts';
import { isNf4, nf4StorageBytes, type Nf4Tensor } from '../quant/nf4.ts';
import { applyLora } from '../lora/model.ts';
import { openExecutor, type ExecutorChoice, type ExecutorName } from '../executors/index.ts';
import type { BaseDtype } from '../executors/index.ts';
import { peftKey, type Program } from '../../model/ir.ts';
import type { TensorMap, TrainingSession } from '../session.ts';
import type { AdapterWriter } from './checkpoint.ts';

export interface ModelSession {
  session: TrainingSession;
  spec: ModelSpec;
  /** Writes the run's product into a folder: a PEFT adapter (lora, qlora) or a full model folder (full). */
  writeAdapter: AdapterWriter;
  trainableParameters: number;
  totalParameters: number;
  /** Bytes the frozen base weights occupy in the session (NF4 codes + scales for QLoRA). */
  baseWeightBytes: number;
  /** e.g. a listed target module that matches nothing. */
  warnings: string[];
  /** The executor that trains, and why (what `auto` found). */
  executor: { name: ExecutorName; reason: string };
}

export interface OpenModelSessionOptions {
  config: Pick<RunConfig, 'model' | 'method' | 'lora' | 'seed'> &
    Partial<Pick<RunConfig, 'bnb_4bit_use_double_quant' | 'from_scratch' | 'executor' | 'micro_batch_size' | 'max_seq_length' | 'base_dtype'>>;
  trainingTemplate: TrainingTemplate | null;
  threads?: number;
  /** Which executor trains (default: the config's, else cpu); cuda sizes its activation slots for
   *  `capacityTokens` per micro-batch (default: the config's micro_batch_size × max_seq_length). */
  executor?: ExecutorChoice;
  capacityTokens?: number;
}

export async function openModelSession({ config, trainingTemplate, threads, executor, capacityTokens }: OpenModelSessionOptions): Promise<ModelSession> {
  const choice = executor ?? config.executor ?? 'cpu';
  const capacity = capacityTokens ?? (config.micro_batch_size ?? 1) * (config.max_seq_length ?? 1);
  const method = config.method;
  if (config.from_scratch && method !== 'full') throw new Error(`from_scratch needs method "full" (got "${method}"): random weights cannot be fine-tuned through an adapter`);
  const { spec, config: hfConfig } = await readModelSpec(config.model);
  const base = buildProgramFromSpec(spec);
  let program: Program;
  let warnings: string[] = [];
  if (method === 'full') program = fullFineTuneProgram(base);
  else {
    const lora = applyLora(method === 'qlora' ? quantizeProgram(base) : base, {
      r: config.lora.r,
      alpha: config.lora.lora_alpha,
      dropout: config.lora.lora_dropout,
      targetModules: config.lora.target_modules,
      bias: config.lora.bias,
      useRslora: config.lora.use_rslora,
    });
    program = lora.program;
    warnings = lora.warnings;
  }

  // The executor pulls the base one tensor at a time from the checkpoint (the folder stays open until the session
  // exists) and keeps no reference to the float ones: the whole base never sits in JavaScript beside the session's.
  let baseWeightBytes = 0;
  const trainable = new Set(program.params.filter((d) => d.trainable).map((d) => d.name));
  // base_dtype: how the CPU holds the frozen floats (auto: the checkpoint's own type, lossless; f32 from scratch)
  let baseDtype: BaseDtype = config.base_dtype === 'auto' || !config.base_dtype ? 'f32' : config.base_dtype;
  const halfBytes = () => baseDtype !== 'f32' && chosen.name === 'cpu';
  const counted = (read: (name: string) => Promise<Float32Array | Nf4Tensor>) => async (name: string) => {
    const w = await read(name);
    if (!trainable.has(name)) baseWeightBytes += isNf4(w) ? nf4StorageBytes(w) : halfBytes() ? w.byteLength / 2 : w.byteLength;
    return w;
  };
  const chosen = openExecutor(choice, { program });
  const request = { program, seed: config.seed, threads, capacityTokens: capacity };
  let session: TrainingSession;
  if (config.from_scratch) {
    const weights = initProgramWeights(program, { seed: config.seed, numLayers: spec.numLayers });
    session = await chosen.createTrainingSession({ ...request, baseDtype, weights: counted(async (n) => weights.get(n)!) });
  } else {
    const folder = await openModelFolder(config.model);
    try {
      // auto: the checkpoint's own type; QLoRA keeps what it does not quantize (embedding, norms) in half as
      // bitsandbytes setups do (torch_dtype bf16/f16), so an f32 checkpoint's QLoRA base is held in f16
      if (config.base_dtype === 'auto' || !config.base_dtype) {
        const stored = checkpointBaseDtype(folder);
        baseDtype = stored === 'f32' && method === 'qlora' ? 'f16' : stored;
      }
      const read = programWeightReader(folder, program, { doubleQuant: config.bnb_4bit_use_double_quant ?? true });
      session = await chosen.createTrainingSession({ ...request, baseDtype, weights: counted(read) });
    } finally {
      await folder.close();
    }
  }

  let writer: AdapterWriter;
  if (method === 'full') writer = (dir, trainables) => writeFullModel(dir, { modelDir: config.model, spec, hfConfig, program, trainables, trainingTemplate });
  else {
    const peftConfig = loraConfigForRun(config.lora, spec, config.model); // fan_in_fan_out for GPT-2's Conv1D
    writer = async (dir: string, trainables: TensorMap) => {
      await writeAdapter(dir, adapterFromTensors(peftConfig, trainables, trainingTemplate));
    };
  }
  return {
    session,
    spec,
    writeAdapter: writer,
    trainableParameters: countParams(program, (d) => d.trainable),
    totalParameters: countParams(base),
    baseWeightBytes,
    warnings,
    executor: { name: chosen.name, reason: chosen.reason },
  };
}

export interface FullModelSource {
  modelDir: string; // the folder the run started from (config.json, tokenizer files)
  spec: ModelSpec;
  hfConfig: Record<string, unknown>;
  program: Program;
  trainables: TensorMap; // every weight, keyed by PEFT-style name (base_model.model.<name>)
  trainingTemplate: TrainingTemplate | null;
}

/**
 * A full fine-tune's weights as a Hugging Face folder transformers (and our own openModelFolder / export) load:
 * every tensor of the family's table in checkpoint order and layout (Conv1D transposed back), float32.
 */
export async function writeFullModel(dir: string, src: FullModelSource): Promise<void> {
  const tensors = tensorTable(src.spec).map((e) => {
    const t = src.trainables.get(peftKey(e.hfName));
    if (!t) throw new Error(`writing the full model: no trained tensor for ${e.hfName}`);
    const data = toStored(src.program, e.hfName, t.data);
    if (data.length !== e.shape.reduce((a, b) => a * b, 1)) throw new Error(`writing the full model: ${e.hfName} has ${data.length} values, expected shape [${e.shape}]`);
    return { name: e.hfName, dtype: 'F32' as const, shape: e.shape, data };
  });
  await writeShardedSafetensors(dir, tensors, { maxShardBytes: 5e9 });
  const config: Record<string, unknown> = { ...src.hfConfig, torch_dtype: 'float32' };
  if ('dtype' in src.hfConfig) config.dtype = 'float32';
  await writeFile(join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  const present = new Set(await readdir(src.modelDir));
  for (const f of ['generation_config.json', ...TOKENIZER_FILES]) if (present.has(f)) await copyFile(join(src.modelDir, f), join(dir, f));
  if (src.trainingTemplate?.chatTemplate) await writeFile(join(dir, 'chat_template.jinja'), src.trainingTemplate.chatTemplate);
  if (src.trainingTemplate) await writeFile(join(dir, 'training_template.json'), JSON.stringify(src.trainingTemplate.template, null, 2) + '\n');
}
