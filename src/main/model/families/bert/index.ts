// The BERT family module: BertModel, BertForMaskedLM (and BertForPreTraining checkpoints, read as masked LM),
// BertForSequenceClassification (pooler dense → tanh → classifier), BertForQuestionAnswering (qa_outputs).

import { classificationLoss, type EncoderLayout, type HeadStep } from './encoder.ts';
import { encoderModule } from './module.ts';
import { parseBertConfig, type BertSpec } from './config.ts';
import type { EncoderSpec } from './spec.ts';

export type { BertSpec } from './config.ts';

/** BERT's layer names under `prefix` (RoBERTa's are the same). */
export function bertStyleLayout(spec: EncoderSpec, prefix: string, head: HeadStep[]): EncoderLayout {
  const P = spec.head.task === 'base' ? '' : prefix;
  return {
    word: `${P}embeddings.word_embeddings`,
    position: `${P}embeddings.position_embeddings`,
    tokenType: spec.typeVocabSize > 0 ? `${P}embeddings.token_type_embeddings` : null,
    embedNorm: `${P}embeddings.LayerNorm`,
    layer: (i) => {
      const b = `${P}encoder.layer.${i}`;
      return {
        block: b,
        q: `${b}.attention.self.query`,
        k: `${b}.attention.self.key`,
        v: `${b}.attention.self.value`,
        o: `${b}.attention.output.dense`,
        attnNorm: `${b}.attention.output.LayerNorm`,
        up: `${b}.intermediate.dense`,
        down: `${b}.output.dense`,
        outNorm: `${b}.output.LayerNorm`,
      };
    },
    head,
    loss:
      spec.head.task === 'question_answering'
        ? 'span'
        : spec.head.task === 'sequence_classification'
          ? classificationLoss(spec)
          : undefined,
  };
}

export function bertLayout(spec: BertSpec): EncoderLayout {
  const C = spec.hiddenSize;
  const heads: Record<BertSpec['head']['task'], HeadStep[]> = {
    base: [],
    masked_lm: [
      {
        kind: 'linear',
        module: 'cls.predictions.transform.dense',
        outF: C,
        bias: 'cls.predictions.transform.dense.bias',
        isOutputHead: false,
      },
      { kind: 'gelu' },
      { kind: 'layernorm', module: 'cls.predictions.transform.LayerNorm' },
      {
        kind: 'linear',
        module: 'cls.predictions.decoder',
        outF: spec.vocabSize,
        tiedTo: 'bert.embeddings.word_embeddings.weight',
        bias: 'cls.predictions.bias',
        isOutputHead: true,
      },
    ],
    sequence_classification: [
      { kind: 'first_token' },
      { kind: 'linear', module: 'bert.pooler.dense', outF: C, bias: 'bert.pooler.dense.bias', isOutputHead: false },
      { kind: 'tanh' },
      { kind: 'linear', module: 'classifier', outF: spec.head.numLabels, bias: 'classifier.bias', isOutputHead: true },
    ],
    question_answering: [
      { kind: 'linear', module: 'qa_outputs', outF: 2, bias: 'qa_outputs.bias', isOutputHead: true },
    ],
  };
  return bertStyleLayout(spec, 'bert.', heads[spec.head.task]);
}

const entry = { modelTypes: ['bert'], parse: parseBertConfig };

export const bertFamily = encoderModule<BertSpec>({
  name: 'bert',
  architectures: {
    BertModel: entry,
    BertForMaskedLM: entry,
    BertForPreTraining: entry,
    BertForSequenceClassification: entry,
    BertForQuestionAnswering: entry,
  },
  byModelType: { bert: 'BertModel' },
  basePrefix: 'bert.',
  layout: bertLayout,
  // position_ids buffers; the pooler, next-sentence and MLM tensors of heads the opened class does not have
  ignorable: /(^|\.)embeddings\.position_ids$|^cls\.|^(bert\.)?pooler\.|^(classifier|qa_outputs)\./,
});
