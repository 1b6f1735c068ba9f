// The engine's public face for the worker and trainer: model definitions, LoRA, the CPU executor.
export type { Batch, MicroStepOptions, MicroStepResult, UpdateOptions, UpdateResult, EvalResult, TensorMap, TrainingSession } from './session.ts';
export type { Program, OpNode, ParamDecl } from './ir.ts';
export { peftKey } from './ir.ts';
export { buildLlamaProgram, countParams, type LlamaConfig } from './models/llama.ts';
export { buildGpt2Program } from './models/gpt2.ts';
export { buildGemma3Program } from './models/gemma3.ts';
export { buildProgramFromSpec, fullFineTuneProgram, initProgramWeights } from './models/index.ts';
export { quantizeProgram, quantizeWeight, type QuantOptions } from './quant/program.ts';
export { quantizeNf4, dequantizeNf4, isNf4, type Nf4Tensor } from './quant/nf4.ts';
export { applyLora, matchTargetModules, type ResolvedTargets, type LoraProgram } from './lora/model.ts';
export { loraScaling, type LoraConfig } from './lora/config.ts';
export { loraDelta, mergeInto, initLoraA } from './lora/layer.ts';
export { createCpuTrainingSession, CpuTrainingSession, type CpuSessionOptions } from './executors/onnx/session.ts';
export { ReferenceExecutor } from './executors/reference/executor.ts';
