// What a model family module provides (model/families/<name>/index.ts). Adding a family is one folder exporting
// one of these and one line in families/index.ts; formats (config.json, tensor tables, PEFT targets, GGUF) and the
// engine (the program its executors lower, with its layers as checkpoint blocks) read nothing else of it.

import type { Program } from './ir.ts';
import type { ConfigFields } from './config-fields.ts';
import type { HfTensorEntry } from './tensor-table.ts';
import type { SpecBase } from './spec-base.ts';

export interface ArchitectureEntry<S> {
  /** model_type values accepted with this class. */
  modelTypes: string[];
  /** config.json → the family's spec; errors name the file and the field. */
  parse(c: ConfigFields, architecture: string): S;
}

export interface FamilyModule<S extends SpecBase> {
  /** The spec.family values this module covers. */
  names: readonly S['family'][];
  /** Hugging Face classes (config.json `architectures[0]`) read by this family. */
  architectures: Record<string, ArchitectureEntry<S>>;
  /** model_type → class, for a config.json without `architectures`. */
  byModelType: Record<string, string>;
  /** Every checkpoint tensor in save_pretrained order, with its canonical params, layout, fusion and GGUF name. */
  tensorTable(spec: S): HfTensorEntry[];
  /** The checkpoint name of the embedding a tied output head shares. */
  tiedHeadWeight: string;
  /** Checkpoint tensors that are buffers, not parameters (besides rotary inv_freq and a tied lm_head), or tensors of
   *  other task heads the opened class does not use (encoders: transformers ignores them too). */
  isBufferTensor?(name: string): boolean;
  /** Other names a checkpoint may give a table tensor (encoders: saved from the base class without its prefix, old
   *  LayerNorm gamma/beta), tried in order when the table's name is absent. */
  checkpointNames?(hfName: string): string[];
  /** Table tensors a checkpoint may lack (an encoder's task head on a base-only checkpoint): the folder then creates
   *  them, seeded, and says so, as transformers initializes a new head. */
  createdIfMissing?(entry: HfTensorEntry): boolean;
  /** Weights transformers' _init_weights scales by 1/√(2·n_layer) when pretraining from scratch (GPT-2's c_proj). */
  scaledResidualInit?: RegExp;
  /** llama.cpp's architecture name. */
  ggufArch(spec: S): string;
  /** The program of coarse ops (model/ir.ts), its decoder layers declared as Program.blocks. */
  buildProgram(spec: S): Program;
}
