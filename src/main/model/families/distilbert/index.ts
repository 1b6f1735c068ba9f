// The DistilBERT family module: distilbert.embeddings (no token types), distilbert.transformer.layer.N with
// attention.{q_lin,k_lin,v_lin,out_lin}, sa_layer_norm, ffn.{lin1,lin2}, output_layer_norm; heads vocab_transform →
// GELU → vocab_layer_norm → vocab_projector (tied), pre_classifier → ReLU → classifier on [CLS], qa_outputs.

import { classificationLoss, type EncoderLayout, type HeadStep } from '../bert/encoder.ts';
import { encoderModule } from '../bert/module.ts';
import { parseDistilBertConfig, type DistilBertSpec } from './config.ts';

export type { DistilBertSpec } from './config.ts';

export function distilBertLayout(spec: DistilBertSpec): EncoderLayout {
  const C = spec.hiddenSize;
  const P = spec.head.task === 'base' ? '' : 'distilbert.';
  const heads: Record<DistilBertSpec['head']['task'], HeadStep[]> = {
    base: [],
    masked_lm: [
      { kind: 'linear', module: 'vocab_transform', outF: C, bias: 'vocab_transform.bias', isOutputHead: false },
      { kind: 'gelu' },
      { kind: 'layernorm', module: 'vocab_layer_norm' },
      {
        kind: 'linear',
        module: 'vocab_projector',
        outF: spec.vocabSize,
        tiedTo: 'distilbert.embeddings.word_embeddings.weight',
        bias: 'vocab_projector.bias',
        isOutputHead: true,
      },
    ],
    sequence_classification: [
      { kind: 'first_token' },
      { kind: 'linear', module: 'pre_classifier', outF: C, bias: 'pre_classifier.bias', isOutputHead: true },
      { kind: 'relu' },
      { kind: 'linear', module: 'classifier', outF: spec.head.numLabels, bias: 'classifier.bias', isOutputHead: true },
    ],
    question_answering: [
      { kind: 'linear', module: 'qa_outputs', outF: 2, bias: 'qa_outputs.bias', isOutputHead: true },
    ],
  };
  const task = spec.head.task;
  return {
    word: `${P}embeddings.word_embeddings`,
    position: `${P}embeddings.position_embeddings`,
    tokenType: null,
    embedNorm: `${P}embeddings.LayerNorm`,
    layer: (i) => {
      const b = `${P}transformer.layer.${i}`;
      return {
        block: b,
        q: `${b}.attention.q_lin`,
        k: `${b}.attention.k_lin`,
        v: `${b}.attention.v_lin`,
        o: `${b}.attention.out_lin`,
        attnNorm: `${b}.sa_layer_norm`,
        up: `${b}.ffn.lin1`,
        down: `${b}.ffn.lin2`,
        outNorm: `${b}.output_layer_norm`,
      };
    },
    head: heads[task],
    loss:
      task === 'question_answering'
        ? 'span'
        : task === 'sequence_classification'
          ? classificationLoss(spec)
          : undefined,
  };
}

const entry = { modelTypes: ['distilbert'], parse: parseDistilBertConfig };

export const distilBertFamily = encoderModule<DistilBertSpec>({
  name: 'distilbert',
  architectures: {
    DistilBertModel: entry,
    DistilBertForMaskedLM: entry,
    DistilBertForSequenceClassification: entry,
    DistilBertForQuestionAnswering: entry,
  },
  byModelType: { distilbert: 'DistilBertModel' },
  basePrefix: 'distilbert.',
  layout: distilBertLayout,
  ignorable:
    /(^|\.)embeddings\.position_ids$|^(vocab_transform|vocab_layer_norm|vocab_projector|pre_classifier|classifier|qa_outputs)\./,
});
