// Opens a training session for an encoder-task run (model-session.ts is the causal-lm one) through
// engine/encoders/open.ts: any encoder checkpoint (…Model, …ForMaskedLM, or already a task model) as the task model
// with the run's labels (a head the checkpoint lacks, and BERT's pooler, created seeded and trained), on the executor
// the run names (`executor`: cpu, cuda, or auto = CUDA when the addon sees a GPU, as decoder runs choose; a device
// asked for and absent is refused with the usual sentence), plus the writer of what the run produces. What this file
// adds is the run's view: LoRA targets (PEFT's family default when the run kept the decoder list), the executor and
// its reason, and the ModelSession shape the trainer uses:
//   lora / qlora  LoRA on the targets, the head trained in full as PEFT's task types do (SEQ_CLS: modules_to_save
//                 classifier/score; QUESTION_ANS: qa_outputs), written as a PEFT adapter with task_type,
//                 modules_to_save and the head under base_model.model.<name>, plus task_head.json (class, labels);
//   full          every weight trainable; a full <Class>ForSequenceClassification / ForQuestionAnswering folder
//                 with id2label / label2id in config.json.
import type { RunConfig } from '../../../common/api/runs.ts';
import { readModelSpec, type ModelSpec } from '../../formats/model/index.ts';
import { isEncoderSpec, type EncoderTaskRequest } from '../../model/families/bert/task.ts';
import type { EncoderSpec } from '../../model/families/bert/spec.ts';
import { openEncoderSession, type OpenEncoderOptions } from '../encoders/open.ts';
import type { ModelSession } from './model-session.ts';

/** The schema's default target list (a decoder's names): an encoder run that keeps it gets PEFT's default for the family. */
const DECODER_DEFAULT_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj'];
/** PEFT's TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING for the encoder families (target_modules=None). */
const PEFT_DEFAULT_TARGETS: Record<EncoderSpec['family'], string[]> = {
  bert: ['query', 'value'],
  roberta: ['query', 'value'],
  electra: ['query', 'value'],
  distilbert: ['q_lin', 'v_lin'],
};

export type TaskHeadRequest = EncoderTaskRequest & { task: 'sequence_classification' | 'question_answering' };

export interface TaskModelSession extends ModelSession {
  spec: ModelSpec & EncoderSpec;
  /** The LoRA targets used (after the family default replaced a decoder's list); null in full training. */
  targets: string[] | 'all-linear' | null;
}

/** The targets a run's LoRA section means on this encoder: its own list, or PEFT's family default for the decoder default. */
export function encoderTargets(
  config: Pick<RunConfig, 'lora'>,
  spec: EncoderSpec,
): { targets: string[] | 'all-linear'; note: string | null } {
  const t = config.lora.target_modules;
  if (
    Array.isArray(t) &&
    t.length === DECODER_DEFAULT_TARGETS.length &&
    t.every((m, i) => m === DECODER_DEFAULT_TARGETS[i])
  ) {
    const targets = PEFT_DEFAULT_TARGETS[spec.family];
    return {
      targets,
      note: `LoRA targets: ${targets.join(', ')} (PEFT's default for ${spec.family}; the run kept the decoder default q_proj, k_proj, v_proj, o_proj, which ${spec.family} does not have)`,
    };
  }
  return { targets: t, note: null };
}

export async function openTaskModelSession(o: {
  config: RunConfig;
  request: TaskHeadRequest;
  threads?: number;
  /** Tests: the native addon / CUDA probe the executor choice sees (default: the built addon, if any). */
  executorOptions?: OpenEncoderOptions['executorOptions'];
}): Promise<TaskModelSession> {
  const { config, request } = o;
  const { spec: fromConfig } = await readModelSpec(config.model);
  if (!isEncoderSpec(fromConfig)) {
    throw new Error(
      `${config.model}: ${fromConfig.architecture} is a decoder (${fromConfig.family}); task "${config.task}" needs an encoder (BERT, DistilBERT, RoBERTa, XLM-RoBERTa)`,
    );
  }
  const warnings: string[] = [];
  let targets: string[] | 'all-linear' | null = null;
  if (config.method !== 'full') {
    const chosen = encoderTargets(config, fromConfig);
    if (chosen.note) warnings.push(chosen.note);
    targets = chosen.targets;
  }
  // engine/encoders/open.ts opens the task model (head created when missing, PEFT's modules_to_save, writers)
  const opened = await openEncoderSession({
    model: config.model,
    task: request,
    method: config.method,
    lora: targets === null ? undefined : { ...config.lora, target_modules: targets },
    seed: config.seed,
    threads: o.threads,
    bnb_4bit_use_double_quant: config.bnb_4bit_use_double_quant,
    executor: config.executor,
    // the device's activation slots fit the run's largest micro-batch
    capacityTokens: config.micro_batch_size * config.max_seq_length,
    executorOptions: o.executorOptions,
  });
  return {
    session: opened.session,
    spec: opened.spec as ModelSpec & EncoderSpec,
    writeAdapter: opened.writeAdapter,
    trainableParameters: opened.trainableParameters,
    totalParameters: opened.totalParameters,
    baseWeightBytes: opened.baseWeightBytes,
    warnings: [...warnings, ...opened.warnings],
    executor: opened.executor,
    targets,
  };
}
