// What BERT, DistilBERT and RoBERTa / XLM-RoBERTa share as a spec: a post-LayerNorm encoder with learned absolute
// positions and exact GELU, and the task head its Hugging Face class carries (…Model: none, …ForMaskedLM,
// …ForSequenceClassification, …ForQuestionAnswering). The head's config (labels, problem type) is read here so
// every encoder family reads it the same way; encoderForTask() (task.ts) turns any checkpoint's spec into the
// spec of the task model the studio trains.

import { ConfigFields, ModelConfigError } from '../../config-fields.ts';
import type { LayerType, SpecBase } from '../../spec-base.ts';

export type EncoderTask = 'base' | 'masked_lm' | 'sequence_classification' | 'question_answering';

export interface EncoderHead {
  task: EncoderTask;
  /** Classification: the label count (1 = regression); QA: 2 (start, end); otherwise 0. */
  numLabels: number;
  /** Sequence classification: transformers' problem_type as resolved (num_labels 1 → regression). */
  problemType: 'single_label_classification' | 'regression' | null;
  /** id2label as config.json holds it ("0" → name), null when absent. */
  id2label: Record<string, string> | null;
}

export interface EncoderSpec extends SpecBase {
  family: 'bert' | 'distilbert' | 'roberta' | 'electra';
  positionEmbedding: 'learned';
  rope: null;
  normKind: 'layer';
  activation: 'gelu';
  mlpKind: 'plain';
  qkNorm: false;
  sandwichNorms: false;
  conv1dWeights: false;
  fusedQkv: false;
  finalLogitSoftcap: null;
  /** Rows of the token-type table (BERT's type_vocab_size; 0 for DistilBERT, which has none). */
  typeVocabSize: number;
  /** RoBERTa / XLM-R: positions start at padding_idx + 1 (= pad_token_id + 1); 0 otherwise. */
  positionOffset: number;
  /** Rows of the checkpoint's position table (max_position_embeddings); maxPositions = this − positionOffset. */
  positionRows: number;
  /** transformers' initializer_range: the std of a head created for a checkpoint that lacks it. */
  initializerRange: number;
  /** Width of the embedding tables (ELECTRA's embedding_size; the hidden size elsewhere). */
  embeddingSize: number;
  head: EncoderHead;
}

/** The task a Hugging Face encoder class carries, from its class name. */
export function taskOfArchitecture(architecture: string): EncoderTask {
  if (architecture === 'ElectraForPreTraining') return 'base'; // the discriminator's replaced-token head is no task here
  if (architecture.endsWith('ForSequenceClassification')) return 'sequence_classification';
  if (architecture.endsWith('ForQuestionAnswering')) return 'question_answering';
  if (architecture.endsWith('ForMaskedLM') || architecture.endsWith('ForPreTraining')) return 'masked_lm';
  return 'base';
}

/** id2label / label2id / num_labels / problem_type, as PretrainedConfig reads them. */
export function parseHead(c: ConfigFields, architecture: string): EncoderHead {
  const task = taskOfArchitecture(architecture);
  if (task === 'question_answering') return { task, numLabels: 2, problemType: null, id2label: null };
  let id2label: Record<string, string> | null = null;
  const raw = c.raw.id2label;
  if (raw !== undefined && raw !== null) {
    if (typeof raw !== 'object' || Array.isArray(raw))
      throw new ModelConfigError(`${c.file}: field "id2label" must be an object {"0": "label", …}`);
    id2label = {};
    const entries = Object.entries(raw as Record<string, unknown>);
    for (const [k, v] of entries) {
      if (!/^\d+$/.test(k) || typeof v !== 'string')
        throw new ModelConfigError(
          `${c.file}: field "id2label" must map label ids ("0", "1", …) to names, got ${JSON.stringify(k)}: ${JSON.stringify(v)}`,
        );
      id2label[k] = v;
    }
    for (let i = 0; i < entries.length; i++)
      if (!(String(i) in id2label))
        throw new ModelConfigError(
          `${c.file}: field "id2label" must number its labels 0..${entries.length - 1} (missing "${i}")`,
        );
  }
  if (task !== 'sequence_classification') return { task, numLabels: 0, problemType: null, id2label };
  const numLabels = id2label ? Object.keys(id2label).length : c.int('num_labels', 2);
  if (numLabels < 1)
    throw new ModelConfigError(`${c.file}: a sequence classifier needs at least one label (id2label / num_labels)`);
  const pt = c.str('problem_type', '');
  if (pt === 'multi_label_classification')
    throw new ModelConfigError(
      `${c.file}: field "problem_type" "multi_label_classification" is not supported (single_label_classification or regression)`,
    );
  if (pt !== '' && pt !== 'regression' && pt !== 'single_label_classification')
    throw new ModelConfigError(
      `${c.file}: field "problem_type" must be "single_label_classification" or "regression", got ${JSON.stringify(pt)}`,
    );
  const problemType =
    pt === 'regression' || (pt === '' && numLabels === 1) ? 'regression' : 'single_label_classification';
  if (problemType === 'regression' && numLabels !== 1)
    throw new ModelConfigError(`${c.file}: problem_type "regression" needs exactly one label, got ${numLabels}`);
  return { task, numLabels, problemType, id2label };
}

/** Only transformers' exact GELU ("gelu") is lowered for encoders; anything else names the field. */
export function encoderActivation(c: ConfigFields, field: string): 'gelu' {
  const v = c.str(field, 'gelu');
  if (v !== 'gelu')
    throw new ModelConfigError(
      `${c.file}: ${field} "${v}" is not supported for encoders (supported: gelu, the exact erf GELU)`,
    );
  return 'gelu';
}

/** The SpecBase fields every encoder fills the same way. */
export function encoderBase(
  c: ConfigFields,
  f: Pick<
    EncoderSpec,
    | 'family'
    | 'architecture'
    | 'modelType'
    | 'vocabSize'
    | 'hiddenSize'
    | 'intermediateSize'
    | 'numLayers'
    | 'numHeads'
    | 'normEps'
    | 'typeVocabSize'
    | 'positionOffset'
    | 'positionRows'
    | 'initializerRange'
  > &
    Partial<Pick<EncoderSpec, 'embeddingSize'>>,
): EncoderSpec {
  if (f.hiddenSize % f.numHeads !== 0)
    throw new ModelConfigError(
      `${c.file}: the hidden size (${f.hiddenSize}) must be divisible by the attention heads (${f.numHeads})`,
    );
  if (f.positionRows <= f.positionOffset)
    throw new ModelConfigError(
      `${c.file}: max_position_embeddings (${f.positionRows}) must exceed the position offset ${f.positionOffset}`,
    );
  const headDim = f.hiddenSize / f.numHeads;
  const dtype = c.raw.torch_dtype ?? c.raw.dtype;
  return {
    ...f,
    embeddingSize: f.embeddingSize ?? f.hiddenSize,
    numKvHeads: f.numHeads,
    headDim,
    maxPositions: f.positionRows - f.positionOffset,
    positionEmbedding: 'learned',
    rope: null,
    normKind: 'layer',
    activation: 'gelu',
    mlpKind: 'plain',
    bias: { qkv: true, o: true, mlp: true },
    qkNorm: false,
    sandwichNorms: false,
    tiedEmbeddings: false, // no lm_head module: the masked-LM decoder's tie is in the head's layout (tiedTo)
    embeddingScale: 1,
    attentionScale: 1 / Math.sqrt(headDim),
    slidingWindow: null,
    layerTypes: Array<LayerType>(f.numLayers).fill('full'),
    conv1dWeights: false,
    fusedQkv: false,
    finalLogitSoftcap: null,
    bosTokenId: c.optInt('bos_token_id'),
    eosTokenIds: c.intList('eos_token_id'),
    padTokenId: c.optInt('pad_token_id'),
    torchDtype: typeof dtype === 'string' ? dtype : null,
    head: parseHead(c, f.architecture),
  };
}

/** Fields a BERT-style config may carry that we cannot honour: each is refused by name. */
export function refuseUnsupported(c: ConfigFields, family: string): void {
  const pet = c.str('position_embedding_type', 'absolute');
  if (pet !== 'absolute')
    throw new ModelConfigError(
      `${c.file}: position_embedding_type "${pet}" is not supported for ${family} (absolute only)`,
    );
  if (c.bool('is_decoder', false))
    throw new ModelConfigError(`${c.file}: is_decoder=true is not supported for ${family} (encoders only)`);
  if (c.bool('add_cross_attention', false))
    throw new ModelConfigError(`${c.file}: add_cross_attention=true is not supported for ${family}`);
}
