// ELECTRA's config.json → ElectraSpec: BERT's fields plus embedding_size (the embedding tables' width, projected to
// hidden_size by electra.embeddings_project when they differ).

import { ConfigFields } from '../../config-fields.ts';
import { bertStyleFields } from '../bert/config.ts';
import { encoderBase, type EncoderSpec } from '../bert/spec.ts';

export interface ElectraSpec extends EncoderSpec {
  family: 'electra';
}

export function parseElectraConfig(c: ConfigFields, architecture: string): ElectraSpec {
  const fields = bertStyleFields(c, 'ELECTRA');
  return encoderBase(c, {
    family: 'electra',
    architecture,
    modelType: c.str('model_type', 'electra'),
    positionOffset: 0,
    ...fields,
    embeddingSize: c.int('embedding_size', 128),
  }) as ElectraSpec;
}
