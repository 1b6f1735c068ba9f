// Chat with a trained AdapterFusion (issue 15, attention mode): the fusion folder's adapters re-hashed (refused when
// one changed), the fused program (engine/fusion/program.ts: the base + every adapter's frozen branch + the trained
// attention per adapted linear) decoded like any model — the same ONNX decode graph, KV cache and sampling loop as a
// plain chat, with the fusion's tensors as frozen weights and no adapter inputs. The attention weighs the adapters
// per token, so it cannot be stacked into the base's adapter inputs nor merged: it is its own decode graph beside
// the base's — which, given the base's open decoder (`base`), reads the base's weights where that decoder holds them
// (on the CPU its weight file, mapped once) and stores only the adapters' branches and the attention.
// bench/fusion-chat-memory.ts measures what a fused pane adds to a resident worker.
import { resolve } from 'node:path';
import { say } from '../../../common/api/phrases.ts';
import { readFusionFolder, type FusionFolder } from '../../formats/fusion/index.ts';
import type { Program } from '../../model/ir.ts';
import { frozen, readFusionInputs } from '../fusion/session.ts';
import { fuseProgram } from '../fusion/program.ts';
import { Decoder } from './decoder.ts';

export interface FusionChat {
  dir: string;
  folder: FusionFolder;
  decoder: Decoder;
  /** The adapters it combines, by name (what an answer says it was written with). */
  names: string[];
  /** The chat template the fusion was trained with, when it saved one. */
  chatTemplate: string | null;
}

const PEFT_PREFIX = 'base_model.model.';

/** The fused program with the folder's trained tensors as (frozen) weights, ready to decode. */
export async function fusedDecodeProgram(dir: string): Promise<{ folder: FusionFolder; program: Program; weights: Map<string, Float32Array>; names: string[] }> {
  const folder = await readFusionFolder(dir);
  const c = folder.config;
  const inputs = await readFusionInputs(c.base_model, c.adapters.map((a) => a.path));
  const fused = fuseProgram(inputs.base, frozen(inputs), { mode: 'attention', perLayer: false, softmax: true, attentionDim: c.attention_dim, valueRank: c.value_rank, seed: 0 });
  const weights = new Map<string, Float32Array>([...inputs.baseWeights, ...fused.weights]);
  for (const d of fused.program.params) {
    if (!d.trainable) continue;
    const t = folder.tensors.get(`${PEFT_PREFIX}${d.name}`) ?? folder.tensors.get(d.name);
    const size = d.shape.reduce((a, b) => a * b, 1);
    if (!t) throw new Error(`${dir}: fusion_model.safetensors has no ${PEFT_PREFIX}${d.name}; the folder is incomplete — train the fusion again`);
    if (t.data.length !== size) throw new Error(`${dir}: ${d.name} holds ${t.data.length} values, the fusion of these adapters needs ${size} (shape ${d.shape.join('×')})`);
    weights.set(d.name, t.data);
  }
  // decoding trains nothing: every tensor is a frozen weight of the decode graph
  const program: Program = { ...fused.program, params: fused.program.params.map((d) => ({ ...d, trainable: false })) };
  return { folder, program, weights, names: inputs.adapters.map((a) => a.part.name) };
}

/**
 * Opens a fusion folder for chat over `model` (the chat's base): the fusion must have been trained on that base.
 * `quant`: an NF4 base is refused (the fusion's adapters were combined over the float base).
 */
export async function openFusionChat(dir: string, model: string, o: { threads?: number; quant?: unknown; base?: Decoder } = {}): Promise<FusionChat> {
  if (o.quant) throw new Error(`${dir} is an AdapterFusion combination: it answers over the unquantized base only; choose "none" for the base's quantization`);
  const { folder, program, weights, names } = await fusedDecodeProgram(dir);
  if (resolve(folder.config.base_model) !== resolve(model))
    throw new Error(`${dir} combines adapters of ${folder.config.base_model}; this chat's model is ${model}: choose that base model to chat with the fusion`);
  const decoder = await Decoder.create({ program, weights, threads: o.threads, adapterModules: () => false, shareBaseWith: o.base });
  const t = folder.config.training_template;
  return { dir, folder, decoder, names, chatTemplate: t?.chat_template ?? null };
}

/** The sentence llama.cpp panes answer with a fusion folder (it cannot run per-token attention over adapters). */
export function llamaCppCannotFuse(dir: string): string {
  return say('chat.fusionLlamaCpp', { path: dir }).message;
}
