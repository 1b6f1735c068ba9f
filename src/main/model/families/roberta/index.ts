// The RoBERTa / XLM-RoBERTa family module: BERT's encoder under "roberta." with offset positions; heads
// lm_head (dense → GELU → layer_norm → decoder tied to the word embeddings), classifier (dense → tanh → out_proj,
// on the <s> token; no pooler) and qa_outputs.

import type { EncoderLayout, HeadStep } from '../bert/encoder.ts';
import { bertStyleLayout } from '../bert/index.ts';
import { encoderModule } from '../bert/module.ts';
import { parseRobertaConfig, type RobertaSpec } from './config.ts';

export type { RobertaSpec } from './config.ts';

export function robertaLayout(spec: RobertaSpec): EncoderLayout {
  const C = spec.hiddenSize;
  const heads: Record<RobertaSpec['head']['task'], HeadStep[]> = {
    base: [],
    masked_lm: [
      { kind: 'linear', module: 'lm_head.dense', outF: C, bias: 'lm_head.dense.bias', isOutputHead: false },
      { kind: 'gelu' },
      { kind: 'layernorm', module: 'lm_head.layer_norm' },
      {
        kind: 'linear',
        module: 'lm_head.decoder',
        outF: spec.vocabSize,
        tiedTo: 'roberta.embeddings.word_embeddings.weight',
        bias: 'lm_head.bias',
        isOutputHead: true,
      },
    ],
    sequence_classification: [
      { kind: 'first_token' },
      { kind: 'linear', module: 'classifier.dense', outF: C, bias: 'classifier.dense.bias', isOutputHead: true },
      { kind: 'tanh' },
      {
        kind: 'linear',
        module: 'classifier.out_proj',
        outF: spec.head.numLabels,
        bias: 'classifier.out_proj.bias',
        isOutputHead: true,
      },
    ],
    question_answering: [
      { kind: 'linear', module: 'qa_outputs', outF: 2, bias: 'qa_outputs.bias', isOutputHead: true },
    ],
  };
  return bertStyleLayout(spec, 'roberta.', heads[spec.head.task]);
}

const roberta = { modelTypes: ['roberta'], parse: parseRobertaConfig };
const xlmr = { modelTypes: ['xlm-roberta'], parse: parseRobertaConfig };

export const robertaFamily = encoderModule<RobertaSpec>({
  name: 'roberta',
  architectures: {
    RobertaModel: roberta,
    RobertaForMaskedLM: roberta,
    RobertaForSequenceClassification: roberta,
    RobertaForQuestionAnswering: roberta,
    XLMRobertaModel: xlmr,
    XLMRobertaForMaskedLM: xlmr,
    XLMRobertaForSequenceClassification: xlmr,
    XLMRobertaForQuestionAnswering: xlmr,
  },
  byModelType: { roberta: 'RobertaModel', 'xlm-roberta': 'XLMRobertaModel' },
  basePrefix: 'roberta.',
  layout: robertaLayout,
  // position_ids buffers, the base model's pooler, and other heads' tensors (lm_head.decoder is tied)
  ignorable: /(^|\.)embeddings\.position_ids$|^(roberta\.)?pooler\.|^lm_head\.|^(classifier|qa_outputs)\./,
});
