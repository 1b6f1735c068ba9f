// Opens a training session for an encoder task (model-session.ts is the causal-lm one): any encoder checkpoint
// (…Model, …ForMaskedLM, or already a task model) → the task model's spec with the run's labels (model/families
// encoderForTask, as AutoModelFor….from_pretrained(base, num_labels=…) builds it; a head the checkpoint lacks is
// created seeded and said so) → the method's program → the CPU executor, plus the writer of what the run produces:
//   lora / qlora  LoRA on the targets, the head trained in full as PEFT's task types do (SEQ_CLS: modules_to_save
//                 classifier/score; QUESTION_ANS: qa_outputs), written as a PEFT adapter with task_type,
//                 modules_to_save and the head under base_model.model.<name>, plus task_head.json (class, labels);
//   full          every weight trainable; a full <Class>ForSequenceClassification / ForQuestionAnswering folder
//                 with id2label / label2id in config.json.
import type { RunConfig } from '../../../common/api/runs.ts';
import { openModelFolder, readModelSpec, type ModelSpec } from '../../formats/model/index.ts';
import { adapterFromTensors, loraConfigForRun, peftModulesToSave, writeAdapter } from '../../formats/peft/index.ts';
import { countParams, type Program } from '../../model/ir.ts';
import { buildProgramFromSpec } from '../../model/families/index.ts';
import {
  encoderForTask,
  isEncoderSpec,
  taskModelConfig,
  type EncoderTaskRequest,
} from '../../model/families/bert/task.ts';
import type { EncoderSpec } from '../../model/families/bert/spec.ts';
import { fullFineTuneProgram } from '../models/index.ts';
import { readProgramWeights } from '../models/load.ts';
import { quantizeProgram } from '../quant/program.ts';
import { applyLora } from '../lora/model.ts';
import { openExecutor } from '../executors/index.ts';
import type { TensorMap } from '../session.ts';
import type { ModelSession } from './model-session.ts';
import { writeFullModel } from './model-session.ts';

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
}): Promise<TaskModelSession> {
  const { config, request } = o;
  const { spec: fromConfig, config: hfConfig } = await readModelSpec(config.model);
  if (!isEncoderSpec(fromConfig)) {
    throw new Error(
      `${config.model}: ${fromConfig.architecture} is a decoder (${fromConfig.family}); task "${config.task}" needs an encoder (BERT, DistilBERT, RoBERTa, XLM-RoBERTa)`,
    );
  }
  const toTask = (s: ModelSpec) => encoderForTask(s, request) as ModelSpec & EncoderSpec;
  const spec = toTask(fromConfig);
  const base = buildProgramFromSpec(spec);
  const taskType = request.task === 'question_answering' ? 'QUESTION_ANS' : 'SEQ_CLS';
  const warnings: string[] = [];
  let program: Program;
  let targets: string[] | 'all-linear' | null = null;
  if (config.method === 'full') program = fullFineTuneProgram(base);
  else {
    const chosen = encoderTargets(config, spec);
    if (chosen.note) warnings.push(chosen.note);
    targets = chosen.targets;
    const lora = applyLora(config.method === 'qlora' ? quantizeProgram(base) : base, {
      r: config.lora.r,
      alpha: config.lora.lora_alpha,
      dropout: config.lora.lora_dropout,
      targetModules: targets,
      bias: config.lora.bias,
      useRslora: config.lora.use_rslora,
      modulesToSave: peftModulesToSave(taskType) ?? [],
    });
    program = lora.program;
    warnings.push(...lora.warnings);
  }
  const folder = await openModelFolder(config.model, { spec: toTask, seed: config.seed });
  let weights: Awaited<ReturnType<typeof readProgramWeights>>;
  try {
    warnings.push(...folder.warnings);
    weights = await readProgramWeights(folder, program, { doubleQuant: config.bnb_4bit_use_double_quant });
  } finally {
    await folder.close();
  }
  // The task head's loss and logits are lowered on the CPU executors; the device plan trains decoders' LoRA.
  const executor = openExecutor('cpu', { program });
  const reason =
    config.executor === 'cpu'
      ? executor.reason
      : `encoder task heads train on the CPU executor (asked for "${config.executor}")`;
  const session = await executor.createTrainingSession({
    program,
    weights,
    seed: config.seed,
    threads: o.threads,
    capacityTokens: config.micro_batch_size * config.max_seq_length,
  });
  const taskConfig = taskModelConfig(hfConfig, spec);
  let writer: (dir: string, trainables: TensorMap) => Promise<void>;
  if (config.method === 'full') {
    writer = (dir, trainables) =>
      writeFullModel(dir, {
        modelDir: config.model,
        spec,
        hfConfig: taskConfig,
        program,
        trainables,
        trainingTemplate: null,
      });
  } else {
    const peftConfig = {
      ...loraConfigForRun({ ...config.lora, target_modules: targets! }, spec, config.model),
      task_type: taskType,
      modules_to_save: peftModulesToSave(taskType),
    };
    const taskHead = {
      architecture: spec.architecture,
      id2label: (taskConfig.id2label as Record<string, string> | undefined) ?? null,
      problemType: spec.head.problemType,
    };
    writer = async (dir, trainables) => {
      await writeAdapter(dir, { ...adapterFromTensors(peftConfig, trainables, null), taskHead });
    };
  }
  let baseWeightBytes = 0;
  for (const d of program.params) {
    const w = weights.get(d.name);
    if (!d.trainable && w && w instanceof Float32Array) baseWeightBytes += w.byteLength;
  }
  return {
    session,
    spec,
    writeAdapter: writer,
    trainableParameters: countParams(program, (d) => d.trainable),
    totalParameters: countParams(base),
    baseWeightBytes,
    warnings,
    executor: { name: executor.name, reason },
    targets,
  };
}
