// RoBERTa's and XLM-RoBERTa's config.json → RobertaSpec: BERT's fields, and positions that start past the padding
// row (padding_idx = pad_token_id, so the first position reads row pad_token_id + 1 of the table).

import { ConfigFields } from '../../config-fields.ts';
import { bertStyleFields } from '../bert/config.ts';
import { encoderBase, type EncoderSpec } from '../bert/spec.ts';

export interface RobertaSpec extends EncoderSpec {
  family: 'roberta';
}

export function parseRobertaConfig(c: ConfigFields, architecture: string): RobertaSpec {
  const pad = c.int('pad_token_id', 1);
  const fields = bertStyleFields(c, architecture.startsWith('XLM') ? 'XLM-RoBERTa' : 'RoBERTa');
  const modelType = c.str('model_type', architecture.startsWith('XLM') ? 'xlm-roberta' : 'roberta');
  return encoderBase(c, {
    family: 'roberta',
    architecture,
    modelType,
    positionOffset: pad + 1,
    ...fields,
    typeVocabSize: c.int('type_vocab_size', 1),
  }) as RobertaSpec;
}
