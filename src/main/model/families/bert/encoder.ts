// The post-LayerNorm encoder BERT, DistilBERT and RoBERTa share, written once over a naming layout each family
// supplies (its Hugging Face module paths): the checkpoint table and the program of coarse ops both come from it.
//   embeddings: words + learned positions (+ offset: RoBERTa) [+ token types] → LayerNorm
//   layer:      x → q,k,v → bidirectional attention (padding masked) → o → LN(x + ·) = h
//               h → up → GELU (erf) → down → LN(h + ·)
//   head:       a short chain (first_token pooling, linears, tanh / ReLU / GELU, LayerNorm) ending in the logits
// Dropout is not modelled (it is identity at inference and the engine trains without it, LoRA dropout aside).

import type { Block, OpNode, ParamDecl, Program } from '../../ir.ts';
import { linear, p, plain, type HfTensorEntry } from '../../tensor-table.ts';
import type { EncoderSpec } from './spec.ts';

/** One layer's module paths (full names, base prefix included). */
export interface EncoderLayerNames {
  block: string;
  q: string;
  k: string;
  v: string;
  o: string;
  attnNorm: string;
  up: string;
  down: string;
  outNorm: string;
}

/** A step of a task head, after the last layer's output (N, C). */
export type HeadStep =
  | { kind: 'first_token' }
  /** A linear to `outF` features; `tiedTo`: its weight is that param (the masked-LM decoder), `bias` its bias's name. */
  | { kind: 'linear'; module: string; outF: number; tiedTo?: string; bias: string; isOutputHead: boolean }
  | { kind: 'tanh' | 'relu' | 'gelu' }
  | { kind: 'layernorm'; module: string };

export interface EncoderLayout {
  word: string;
  position: string;
  tokenType: string | null;
  embedNorm: string;
  /** ELECTRA: the linear from the embedding width to the hidden size, when they differ. */
  embedProject?: string;
  layer(i: number): EncoderLayerNames;
  head: HeadStep[];
  /** The Program's loss (absent: cross-entropy over rows; classification puts the label on the first row). */
  loss?: Program['loss'];
}

/** llama.cpp's BERT tensor names for the encoder body (heads keep their Hugging Face names). */
const GGUF_LAYER: Record<keyof Omit<EncoderLayerNames, 'block'>, string> = {
  q: 'attn_q',
  k: 'attn_k',
  v: 'attn_v',
  o: 'attn_output',
  attnNorm: 'attn_output_norm',
  up: 'ffn_up',
  down: 'ffn_down',
  outNorm: 'layer_output_norm',
};
const CANONICAL_LAYER: Record<keyof Omit<EncoderLayerNames, 'block'>, string> = {
  q: 'attn.q',
  k: 'attn.k',
  v: 'attn.v',
  o: 'attn.o',
  attnNorm: 'attn_out_norm',
  up: 'mlp.up',
  down: 'mlp.down',
  outNorm: 'out_norm',
};

/** Width of each head linear's input, walking the chain from the hidden size. */
function headInputs(spec: EncoderSpec, head: HeadStep[]): number[] {
  let w = spec.hiddenSize;
  return head.map((s) => {
    const inW = w;
    if (s.kind === 'linear') w = s.outF;
    return inW;
  });
}

export function encoderTensorTable(spec: EncoderSpec, L: EncoderLayout): HfTensorEntry[] {
  const { hiddenSize: C, intermediateSize: I, vocabSize: V, embeddingSize: E } = spec;
  const out: HfTensorEntry[] = [];
  out.push(plain(`${L.word}.weight`, p('embed', V, E), 'token_embd.weight'));
  out.push(plain(`${L.position}.weight`, p('pos_embed', spec.positionRows, E), 'position_embd.weight'));
  if (L.tokenType)
    out.push(plain(`${L.tokenType}.weight`, p('token_types', spec.typeVocabSize, E), 'token_types.weight'));
  out.push(plain(`${L.embedNorm}.weight`, p('embed_norm.weight', E), 'token_embd_norm.weight'));
  out.push(plain(`${L.embedNorm}.bias`, p('embed_norm.bias', E), 'token_embd_norm.bias'));
  if (L.embedProject) {
    out.push(linear(L.embedProject, p('embed_project.weight', C, E), false, `${L.embedProject}.weight`));
    out.push(plain(`${L.embedProject}.bias`, p('embed_project.bias', C), `${L.embedProject}.bias`));
  }
  for (let i = 0; i < spec.numLayers; i++) {
    const n = L.layer(i);
    const lin = (part: 'q' | 'k' | 'v' | 'o' | 'up' | 'down', outF: number, inF: number) => {
      const canon = `layers.${i}.${CANONICAL_LAYER[part]}`;
      const gguf = `blk.${i}.${GGUF_LAYER[part]}`;
      out.push(linear(n[part], p(`${canon}.weight`, outF, inF), false, `${gguf}.weight`));
      out.push(plain(`${n[part]}.bias`, p(`${canon}.bias`, outF), `${gguf}.bias`));
    };
    const norm = (part: 'attnNorm' | 'outNorm') => {
      for (const wb of ['weight', 'bias'])
        out.push(
          plain(
            `${n[part]}.${wb}`,
            p(`layers.${i}.${CANONICAL_LAYER[part]}.${wb}`, C),
            `blk.${i}.${GGUF_LAYER[part]}.${wb}`,
          ),
        );
    };
    lin('q', C, C);
    lin('k', C, C);
    lin('v', C, C);
    lin('o', C, C);
    norm('attnNorm');
    lin('up', I, C);
    lin('down', C, I);
    norm('outNorm');
  }
  const inputs = headInputs(spec, L.head);
  L.head.forEach((s, j) => {
    if (s.kind === 'linear') {
      if (!s.tiedTo)
        out.push(
          linear(s.module, p(`head.${s.module}.weight`, s.outF, inputs[j]), s.isOutputHead, `${s.module}.weight`),
        );
      out.push(plain(s.bias, p(`head.${s.bias}`, s.outF), s.bias));
    } else if (s.kind === 'layernorm') {
      for (const wb of ['weight', 'bias'])
        out.push(plain(`${s.module}.${wb}`, p(`head.${s.module}.${wb}`, inputs[j]), `${s.module}.${wb}`));
    }
  });
  return out;
}

export function buildEncoderProgram(spec: EncoderSpec, L: EncoderLayout): Program {
  const { hiddenSize: C, intermediateSize: I, numHeads: NH, headDim: HD, vocabSize: V, embeddingSize: E } = spec;
  const params: ParamDecl[] = [];
  const nodes: OpNode[] = [];
  const widths = new Map<string, number>();
  const blocks: Block[] = [];
  const param = (name: string, shape: number[], noDecay = false) => {
    params.push({ name, shape, trainable: false, noDecay });
    return name;
  };
  const act = (name: string, width: number) => (widths.set(name, width), name);
  const lin = (module: string, x: string, inF: number, outF: number, weight?: string, bias = `${module}.bias`) => {
    const out = act(`${module}:out`, outF);
    nodes.push({
      op: 'linear',
      module,
      x,
      inF,
      outF,
      lora: null,
      out,
      weight: weight ?? param(`${module}.weight`, [outF, inF]),
      bias: param(bias, [outF], true),
    });
    return out;
  };
  const layernorm = (module: string, x: string, width = C) => {
    const out = act(`${module}:out`, width);
    nodes.push({
      op: 'layernorm',
      x,
      out,
      width,
      eps: spec.normEps,
      weight: param(`${module}.weight`, [width], true),
      bias: param(`${module}.bias`, [width], true),
    });
    return out;
  };
  const add = (name: string, a: string, b: string, width = C) => {
    nodes.push({ op: 'add', a, b, out: act(name, width), width });
    return name;
  };

  // the embeddings are E wide (= C except ELECTRA, which projects them to C)
  const wordWeight = param(`${L.word}.weight`, [V, E]);
  const words = act(`${L.word}:out`, E);
  const positions = act(`${L.position}:out`, E);
  nodes.push(
    { op: 'embedding', weight: wordWeight, out: words, width: E, scale: 1 },
    {
      op: 'position_embedding',
      weight: param(`${L.position}.weight`, [spec.positionRows, E]),
      out: positions,
      width: E,
      ...(spec.positionOffset ? { offset: spec.positionOffset } : {}),
    },
  );
  let x = add('embeddings:word_pos', words, positions, E);
  if (L.tokenType) {
    const types = act(`${L.tokenType}:out`, E);
    nodes.push({
      op: 'token_type_embedding',
      weight: param(`${L.tokenType}.weight`, [spec.typeVocabSize, E]),
      out: types,
      width: E,
    });
    x = add('embeddings:sum', x, types, E);
  }
  x = layernorm(L.embedNorm, x, E);
  if (L.embedProject) x = lin(L.embedProject, x, E, C);
  else if (E !== C)
    throw new Error(`${spec.architecture}: embedding width ${E} is not the hidden size ${C} and nothing projects it`);
  for (let l = 0; l < spec.numLayers; l++) {
    const n = L.layer(l);
    const start = nodes.length;
    const [q, k, v] = [n.q, n.k, n.v].map((m) => lin(m, x, C, C));
    const a = act(`${n.block}:attention`, C);
    nodes.push({
      op: 'attention',
      q,
      k,
      v,
      out: a,
      NH,
      NKV: NH,
      HD,
      window: null,
      scale: spec.attentionScale,
      causal: false,
    });
    const h = layernorm(n.attnNorm, add(`${n.block}:resid_attn`, x, lin(n.o, a, C, C)));
    const g = act(`${n.block}:gelu`, I);
    nodes.push({ op: 'gelu_erf', x: lin(n.up, h, C, I), out: g, width: I });
    x = layernorm(n.outNorm, add(`${n.block}:resid_mlp`, h, lin(n.down, g, I, C)));
    blocks.push({ name: n.block, start, end: nodes.length });
  }
  let w = C;
  L.head.forEach((s, j) => {
    if (s.kind === 'first_token') {
      const out = act('head:first_token', w);
      nodes.push({ op: 'first_token', x, out, width: w });
      x = out;
    } else if (s.kind === 'linear') {
      x = lin(s.module, x, w, s.outF, s.tiedTo, s.bias);
      w = s.outF;
    } else if (s.kind === 'layernorm') x = layernorm(s.module, x, w);
    else {
      const out = act(`head:${s.kind}.${j}`, w);
      if (s.kind === 'tanh')
        nodes.push({ op: 'softcap', x, out, width: w, cap: 1 }); // 1·tanh(x/1)
      else if (s.kind === 'relu') nodes.push({ op: 'relu', x, out, width: w });
      else nodes.push({ op: 'gelu_erf', x, out, width: w });
      x = out;
    }
  });
  return {
    family: spec.family,
    params,
    nodes,
    widths,
    blocks,
    logits: x,
    ...(L.loss ? { loss: L.loss } : {}),
    vocab: w,
    rope: null,
    maxPositions: spec.maxPositions,
  };
}

/** The loss a sequence-classification head trains with: cross-entropy on the first row, or MSE for regression. */
export const classificationLoss = (spec: EncoderSpec): Program['loss'] =>
  spec.head.problemType === 'regression' ? 'mse' : undefined;
