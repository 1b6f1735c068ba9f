// The normalized model description: the fields every family shares (spec-base.ts) and the per-family union.
export type * from './spec-base.ts';
export type { ModelSpec, ModelFamily } from './families/index.ts';
export type { LlamaSpec } from './families/llama/index.ts';
export type { Gpt2Spec } from './families/gpt2/index.ts';
export type { Gemma3Spec } from './families/gemma3/index.ts';
export type { BertSpec } from './families/bert/index.ts';
export type { DistilBertSpec } from './families/distilbert/index.ts';
export type { RobertaSpec } from './families/roberta/index.ts';
export type { ElectraSpec } from './families/electra/index.ts';
export type { EncoderSpec, EncoderHead, EncoderTask } from './families/bert/spec.ts';
