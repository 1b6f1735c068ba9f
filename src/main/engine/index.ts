// The engine's public face for the worker and trainer: model definitions, LoRA, the CPU executor.
export type { Batch, MicroStepOptions, MicroStepResult, UpdateOptions, UpdateResult, EvalResult, TensorMap, TrainingSession } from './session.ts';
export type { Program, OpNode, ParamDecl } from '../model/ir.ts';
export { peftKey } from '../model/ir.ts';
export { buildLlamaProgram, type LlamaConfig } from '../model/families/llama/program.ts';
export { countParams } from '../model/ir.ts';
export { buildGpt2Program } from '../model/families/gpt2/program.ts';
export { buildGemma3Program } from '../model/families/gemma3/program.ts';
export { buildProgramFromSpec } from '../model/families/index.ts';
export { fullFineTuneProgram, initProgramWeights } from './models/index.ts';
export { quantizeProgram, quantizeWeight, type QuantOptions } from './quant/program.ts';
export { quantizeNf4, dequantizeNf4, isNf4, type Nf4Tensor } from './quant/nf4.ts';
export { applyLora, matchTargetModules, type ResolvedTargets, type LoraProgram } from './lora/model.ts';
export { loraScaling, type LoraConfig } from './lora/config.ts';
export { loraDelta, mergeInto, initLoraA } from './lora/layer.ts';
export { createCpuTrainingSession, CpuTrainingSession, type CpuSessionOptions } from './executors/onnx/session.ts';
export { ReferenceExecutor } from './executors/reference/executor.ts';
