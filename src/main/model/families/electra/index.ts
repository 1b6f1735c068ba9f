// The ELECTRA family module: BERT's encoder under "electra." (no pooler) with embeddings of their own width
// projected by embeddings_project; heads generator_predictions (dense → GELU → LayerNorm) + generator_lm_head tied
// to the word embeddings (ElectraForMaskedLM), classifier (dense → GELU → out_proj on [CLS]), qa_outputs. An
// ElectraForPreTraining (discriminator) checkpoint is read as the base model: its replaced-token head is ignored.

import type { EncoderLayout, HeadStep } from '../bert/encoder.ts';
import { bertStyleLayout } from '../bert/index.ts';
import { encoderModule } from '../bert/module.ts';
import { parseElectraConfig, type ElectraSpec } from './config.ts';

export type { ElectraSpec } from './config.ts';

export function electraLayout(spec: ElectraSpec): EncoderLayout {
  const C = spec.hiddenSize;
  const heads: Record<ElectraSpec['head']['task'], HeadStep[]> = {
    base: [],
    masked_lm: [
      {
        kind: 'linear',
        module: 'generator_predictions.dense',
        outF: spec.embeddingSize,
        bias: 'generator_predictions.dense.bias',
        isOutputHead: false,
      },
      { kind: 'gelu' },
      { kind: 'layernorm', module: 'generator_predictions.LayerNorm' },
      {
        kind: 'linear',
        module: 'generator_lm_head',
        outF: spec.vocabSize,
        tiedTo: 'electra.embeddings.word_embeddings.weight',
        bias: 'generator_lm_head.bias',
        isOutputHead: true,
      },
    ],
    sequence_classification: [
      { kind: 'first_token' },
      { kind: 'linear', module: 'classifier.dense', outF: C, bias: 'classifier.dense.bias', isOutputHead: true },
      { kind: 'gelu' },
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
  const layout = bertStyleLayout(spec, 'electra.', heads[spec.head.task]);
  const P = spec.head.task === 'base' ? '' : 'electra.';
  return spec.embeddingSize === C ? layout : { ...layout, embedProject: `${P}embeddings_project` };
}

const entry = { modelTypes: ['electra'], parse: parseElectraConfig };

export const electraFamily = encoderModule<ElectraSpec>({
  name: 'electra',
  architectures: {
    ElectraModel: entry,
    ElectraForPreTraining: entry,
    ElectraForMaskedLM: entry,
    ElectraForSequenceClassification: entry,
    ElectraForQuestionAnswering: entry,
  },
  byModelType: { electra: 'ElectraModel' },
  basePrefix: 'electra.',
  layout: electraLayout,
  // position_ids buffers; the discriminator's, the generator's and other task heads' tensors
  ignorable:
    /(^|\.)embeddings\.position_ids$|^(discriminator_predictions|generator_predictions|generator_lm_head|classifier|qa_outputs)\./,
});
