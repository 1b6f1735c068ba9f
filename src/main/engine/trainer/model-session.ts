// Opens a training session for a run: a Hugging Face model folder (formats/model) → the family's program
// (engine/models) → LoRA attached (engine/lora) → the CPU executor's TrainingSession, plus a writer that
// saves the session's trainables as a PEFT adapter (formats/peft) with the run's training template.
import type { RunConfig } from '../../../common/api/runs.ts';
import { openModelFolder, type ModelSpec } from '../../formats/model/index.ts';
import { adapterFromTensors, defaultLoraConfig, writeAdapter, type TrainingTemplate } from '../../formats/peft/index.ts';
import { buildLlamaProgram, countParams, type LlamaConfig } from '../models/llama.ts';
import { applyLora } from '../lora/model.ts';
import { createCpuTrainingSession } from '../executors/onnx/session.ts';
import type { TensorMap, TrainingSession } from '../session.ts';
import type { AdapterWriter } from './checkpoint.ts';

export interface ModelSession {
  session: TrainingSession;
  spec: ModelSpec;
  writeAdapter: AdapterWriter;
  trainableParameters: number;
  totalParameters: number;
  /** e.g. a listed target module that matches nothing. */
  warnings: string[];
}

const LLAMA_STYLE = new Set(['llama', 'mistral', 'qwen2', 'qwen3']);

/** The engine's Llama-family config from the normalized spec (families the CPU engine lowers today). */
export function llamaConfigFromSpec(spec: ModelSpec): LlamaConfig {
  if (!LLAMA_STYLE.has(spec.family) || !spec.rope) {
    throw new Error(`${spec.architecture}: the CPU training engine supports Llama, Mistral, Qwen2 and Qwen3 models so far; ${spec.family} comes later`);
  }
  if (spec.sandwichNorms || spec.finalLogitSoftcap !== null || spec.embeddingScale !== 1) {
    throw new Error(`${spec.architecture}: this model uses features the Llama-style engine does not implement (extra norms, soft-capping or embedding scale)`);
  }
  return {
    family: spec.family as LlamaConfig['family'],
    vocabSize: spec.vocabSize,
    hiddenSize: spec.hiddenSize,
    intermediateSize: spec.intermediateSize,
    numLayers: spec.numLayers,
    numHeads: spec.numHeads,
    numKvHeads: spec.numKvHeads,
    headDim: spec.headDim,
    rmsNormEps: spec.normEps,
    rope: { theta: spec.rope.theta, headDim: spec.headDim, scaling: spec.rope.scaling },
    tieWordEmbeddings: spec.tiedEmbeddings,
    attentionBias: spec.bias.qkv,
    qkNorm: spec.qkNorm,
    slidingWindow: spec.slidingWindow,
  };
}

export interface OpenModelSessionOptions {
  config: Pick<RunConfig, 'model' | 'method' | 'lora' | 'seed'>;
  trainingTemplate: TrainingTemplate | null;
  threads?: number;
}

export async function openModelSession({ config, trainingTemplate, threads }: OpenModelSessionOptions): Promise<ModelSession> {
  if (config.method !== 'lora') {
    throw new Error(`method "${config.method}" is not available yet: the CPU engine trains LoRA adapters (QLoRA and full fine-tuning come with issue 5)`);
  }
  const folder = await openModelFolder(config.model);
  try {
    const base = buildLlamaProgram(llamaConfigFromSpec(folder.spec));
    const lora = applyLora(base, {
      r: config.lora.r,
      alpha: config.lora.lora_alpha,
      dropout: config.lora.lora_dropout,
      targetModules: config.lora.target_modules,
      bias: config.lora.bias,
      useRslora: config.lora.use_rslora,
    });
    const weights = new Map<string, Float32Array>();
    for (const param of lora.program.params) {
      if (param.init) continue; // LoRA A/B start from their initialisers, not from the checkpoint
      weights.set(param.name, await folder.readHf(param.name));
    }
    const session = await createCpuTrainingSession({ program: lora.program, weights, seed: config.seed, threads });
    const peftConfig = defaultLoraConfig({
      r: config.lora.r,
      lora_alpha: config.lora.lora_alpha,
      lora_dropout: config.lora.lora_dropout,
      target_modules: config.lora.target_modules,
      bias: config.lora.bias,
      use_rslora: config.lora.use_rslora,
      base_model_name_or_path: config.model,
    });
    const writer: AdapterWriter = async (dir: string, trainables: TensorMap) => {
      await writeAdapter(dir, adapterFromTensors(peftConfig, trainables, trainingTemplate));
    };
    return {
      session,
      spec: folder.spec,
      writeAdapter: writer,
      trainableParameters: countParams(lora.program, (d) => d.trainable),
      totalParameters: countParams(base),
      warnings: lora.warnings,
    };
  } finally {
    await folder.close();
  }
}
