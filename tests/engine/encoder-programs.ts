// Small encoder programs on the IR, shared by the encoder-op checks (tests/engine/encoder-ops.test.ts) and the
// CUDA session's (tests/native/encoder-session.test.ts): BERT's embeddings and one post-LN block with
// bidirectional attention and exact GELU, under an LM head, a sequence classifier, or a regression / QA task head.
import type { OpNode, ParamDecl, Program } from '../../src/main/model/ir.ts';
import { applyLora } from '../../src/main/engine/lora/model.ts';
import type { LoraConfig } from '../../src/main/engine/lora/config.ts';
import type { Batch } from '../../src/main/engine/session.ts';
import { tinyBatch } from './tiny.ts';

export const V = 13;
export const C = 8;
const NH = 2;
const HD = 4;
const I = 12;
export const POSITION_OFFSET = 2; // RoBERTa: padding_idx + 1

/**
 * BERT's order: words + positions + token types → LN → [attn(bidirectional) → +res → LN → fc1 → gelu_erf → fc2 →
 * +res → LN] → head, the bracket one block.
 */
export function baseProgram(causal = false): Program {
  const param = (name: string, shape: number[], noDecay = false): ParamDecl => ({
    name,
    shape,
    trainable: false,
    noDecay,
  });
  const params = [
    param('embed.weight', [V, C]),
    param('embed.positions', [8, C]),
    param('embed.token_types', [2, C]),
    param('embed.norm.weight', [C], true),
    param('embed.norm.bias', [C], true),
    ...['q', 'k', 'v', 'o'].flatMap((m) => [param(`layer.${m}.weight`, [C, C]), param(`layer.${m}.bias`, [C], true)]),
    param('layer.attn_norm.weight', [C], true),
    param('layer.attn_norm.bias', [C], true),
    param('layer.fc1.weight', [I, C]),
    param('layer.fc1.bias', [I], true),
    param('layer.fc2.weight', [C, I]),
    param('layer.fc2.bias', [C], true),
    param('layer.out_norm.weight', [C], true),
    param('layer.out_norm.bias', [C], true),
    param('head.weight', [V, C]),
  ];
  const lin = (m: string, x: string, out: string, inF: number, outF: number): OpNode => ({
    op: 'linear',
    module: `layer.${m}`,
    x,
    weight: `layer.${m}.weight`,
    bias: `layer.${m}.bias`,
    lora: null,
    out,
    inF,
    outF,
  });
  const nodes: OpNode[] = [
    { op: 'embedding', weight: 'embed.weight', out: 'w', width: C, scale: 1 },
    { op: 'position_embedding', weight: 'embed.positions', out: 'pe', width: C, offset: POSITION_OFFSET },
    { op: 'token_type_embedding', weight: 'embed.token_types', out: 'te', width: C },
    { op: 'add', a: 'w', b: 'pe', out: 'wp', width: C },
    { op: 'add', a: 'wp', b: 'te', out: 'wpt', width: C },
    { op: 'layernorm', x: 'wpt', weight: 'embed.norm.weight', bias: 'embed.norm.bias', out: 'e', width: C, eps: 1e-12 },
    lin('q', 'e', 'q', C, C),
    lin('k', 'e', 'k', C, C),
    lin('v', 'e', 'v', C, C),
    { op: 'attention', q: 'q', k: 'k', v: 'v', out: 'a', NH, NKV: NH, HD, window: null, causal },
    lin('o', 'a', 'ao', C, C),
    { op: 'add', a: 'e', b: 'ao', out: 'r1', width: C },
    {
      op: 'layernorm',
      x: 'r1',
      weight: 'layer.attn_norm.weight',
      bias: 'layer.attn_norm.bias',
      out: 'h1',
      width: C,
      eps: 1e-12,
    },
    lin('fc1', 'h1', 'f1', C, I),
    { op: 'gelu_erf', x: 'f1', out: 'g', width: I },
    lin('fc2', 'g', 'f2', I, C),
    { op: 'add', a: 'h1', b: 'f2', out: 'r2', width: C },
    {
      op: 'layernorm',
      x: 'r2',
      weight: 'layer.out_norm.weight',
      bias: 'layer.out_norm.bias',
      out: 'h2',
      width: C,
      eps: 1e-12,
    },
    {
      op: 'linear',
      module: 'head',
      x: 'h2',
      weight: 'head.weight',
      bias: null,
      lora: null,
      out: 'logits',
      inF: C,
      outF: V,
    },
  ];
  const widths = new Map<string, number>([
    ...nodes.map((n) => [n.out, C] as const),
    ['f1', I],
    ['g', I],
    ['logits', V],
  ]);
  return {
    family: 'test',
    params,
    nodes,
    widths,
    blocks: [{ name: 'layer', start: 6, end: nodes.length - 1 }],
    logits: 'logits',
    vocab: V,
    rope: null,
    maxPositions: 8 - POSITION_OFFSET,
  };
}
export const encoderProgram = (causal = false) =>
  applyLora(baseProgram(causal), {
    r: 2,
    alpha: 4,
    dropout: 0,
    targetModules: ['q', 'v', 'fc1'],
    bias: 'none',
    useRslora: false,
  }).program;

/** Two sequences, the second right-padded, as sentence pairs: token types 0 then 1. */
export function pairBatch(): Batch {
  const b = tinyBatch(V, 5);
  return { ...b, tokenTypeIds: Int32Array.from([0, 0, 1, 1, 1, 0, 1, 1, 0, 0]) };
}

/**
 * Sequence classification as the IR runs it: the encoder, then first-token pooling → pooler dense → tanh
 * (softcap 1) → classifier (L labels, with its bias: the device plan fuses it into the head's loss), and the
 * label on each sequence's first row (−100 elsewhere), so the program's cross-entropy is transformers' mean
 * cross-entropy over the pooled logits. `activation` 'relu' is DistilBERT's head (pre_classifier → ReLU → classifier);
 * `lora` overrides the LoRA config (modules_to_save heads, trained biases).
 */
export function classifierProgram(
  L: number,
  activation: 'tanh' | 'relu' = 'tanh',
  lora: Partial<LoraConfig> = {},
): Program {
  const base = baseProgram();
  const param = (name: string, shape: number[], noDecay = false): ParamDecl => ({
    name,
    shape,
    trainable: false,
    noDecay,
  });
  const nodes: OpNode[] = [
    ...base.nodes.slice(0, -1),
    { op: 'first_token', x: 'h2', out: 'cls', width: C },
    {
      op: 'linear',
      module: 'pooler.dense',
      x: 'cls',
      weight: 'pooler.dense.weight',
      bias: 'pooler.dense.bias',
      lora: null,
      out: 'pd',
      inF: C,
      outF: C,
    },
    activation === 'tanh'
      ? { op: 'softcap', x: 'pd', out: 'pooled', width: C, cap: 1 }
      : { op: 'relu', x: 'pd', out: 'pooled', width: C },
    {
      op: 'linear',
      module: 'classifier',
      x: 'pooled',
      weight: 'classifier.weight',
      bias: 'classifier.bias',
      lora: null,
      out: 'logits',
      inF: C,
      outF: L,
    },
  ];
  const params = [
    ...base.params.filter((d) => d.name !== 'head.weight'),
    param('pooler.dense.weight', [C, C]),
    param('pooler.dense.bias', [C], true),
    param('classifier.weight', [L, C]),
    param('classifier.bias', [L], true),
  ];
  const widths = new Map(base.widths);
  for (const [k, v] of [
    ['cls', C],
    ['pd', C],
    ['pooled', C],
    ['logits', L],
  ] as const)
    widths.set(k, v);
  const prog: Program = { ...base, params, nodes, widths, vocab: L };
  return applyLora(prog, {
    r: 2,
    alpha: 4,
    dropout: 0,
    targetModules: ['q', 'v', 'pooler.dense'],
    bias: 'none',
    useRslora: false,
    ...lora,
  }).program;
}

/** The encoder with a task head in place of the LM head: regression (pooled → 1) or extractive QA (per token → 2). */
export function taskProgram(loss: 'mse' | 'span', lora: Partial<LoraConfig> = {}): Program {
  const base = baseProgram();
  const param = (name: string, shape: number[], noDecay = false): ParamDecl => ({
    name,
    shape,
    trainable: false,
    noDecay,
  });
  const out = loss === 'mse' ? 1 : 2;
  const head: OpNode[] =
    loss === 'mse'
      ? [
          { op: 'first_token', x: 'h2', out: 'cls', width: C },
          {
            op: 'linear',
            module: 'pooler.dense',
            x: 'cls',
            weight: 'pooler.dense.weight',
            bias: 'pooler.dense.bias',
            lora: null,
            out: 'pd',
            inF: C,
            outF: C,
          },
          { op: 'softcap', x: 'pd', out: 'pooled', width: C, cap: 1 },
          {
            op: 'linear',
            module: 'classifier',
            x: 'pooled',
            weight: 'classifier.weight',
            bias: 'classifier.bias',
            lora: null,
            out: 'logits',
            inF: C,
            outF: 1,
          },
        ]
      : [
          {
            op: 'linear',
            module: 'qa_outputs',
            x: 'h2',
            weight: 'classifier.weight',
            bias: 'classifier.bias',
            lora: null,
            out: 'logits',
            inF: C,
            outF: 2,
          },
        ];
  const params = [
    ...base.params.filter((d) => d.name !== 'head.weight'),
    ...(loss === 'mse' ? [param('pooler.dense.weight', [C, C]), param('pooler.dense.bias', [C], true)] : []),
    param('classifier.weight', [out, C]),
    param('classifier.bias', [out], true),
  ];
  const widths = new Map(base.widths);
  for (const [k, v] of [
    ['cls', C],
    ['pd', C],
    ['pooled', C],
    ['logits', out],
  ] as const)
    widths.set(k, v);
  const prog: Program = { ...base, params, nodes: [...base.nodes.slice(0, -1), ...head], widths, vocab: out, loss };
  return applyLora(prog, {
    r: 2,
    alpha: 4,
    dropout: 0,
    targetModules: ['q', 'v'],
    bias: 'none',
    useRslora: false,
    ...lora,
  }).program;
}

/**
 * A batch for an encoder task program: B sequences of T tokens (ids in [3, V)), the last right-padded by a third,
 * with what the program's loss reads — labels on first rows (classification), regression targets, or spans —
 * and BERT's sentence-pair token types when `pairs`.
 */
export function encoderTaskBatch(p: Program, B: number, T: number, V: number, pairs: boolean): Batch {
  const mask = Uint8Array.from({ length: B * T }, (_, i) =>
    Math.floor(i / T) === B - 1 && i % T >= T - Math.floor(T / 3) ? 0 : 1,
  );
  const inputIds = Int32Array.from({ length: B * T }, (_, i) => (mask[i] ? 3 + ((i * 7) % (V - 3)) : 1));
  const labels = new Int32Array(B * T).fill(-100);
  const batch: Batch = { B, T, inputIds, attentionMask: mask, labels };
  if (pairs) batch.tokenTypeIds = Int32Array.from({ length: B * T }, (_, i) => (i % T >= T / 2 ? 1 : 0));
  if (p.loss === 'mse') batch.regressionTargets = Float64Array.from({ length: B }, (_, b) => ((b * 0.7) % 2) - 0.9);
  else if (p.loss === 'span') {
    batch.spanStarts = Int32Array.from({ length: B }, (_, b) => (b % 2) + 1);
    batch.spanEnds = Int32Array.from({ length: B }, (_, b) => Math.min(T - Math.floor(T / 3) - 1, (b % 3) + 3));
  } else for (let b = 0; b < B; b++) labels[b * T] = (b * 2) % p.vocab;
  return batch;
}
