// The CUDA executor's public face: probeCuda() for `lora-studio doctor` and executor selection, and the session.
export { probeCuda, type CudaProbe, type CudaDevice } from './probe.ts';
export { CudaTrainingSession, createCudaTrainingSession, type CudaSessionOptions } from './session.ts';
export { CudaOutOfMemoryError, estimateCudaMemory, oomAdvice, type MemoryEstimate } from './memory.ts';
export { lowerProgram, type Plan, type Step } from '../plan/plan.ts';
