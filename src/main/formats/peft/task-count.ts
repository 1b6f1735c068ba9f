// What an encoder task run trains, counted from shapes before it starts (the core's models.plan for task runs):
// the checkpoint opened as its task model (model/families/bert/task.ts encoderForTask, as the run opens it), the
// LoRA targets the run means (PEFT's family default when it kept the decoder list, engine/trainer/task-session.ts),
// and PEFT's modules_to_save for the task type plus the modules the checkpoint lacks (BERT's pooler under a
// masked-LM checkpoint), which engine/encoders/open.ts trains with the head.
import type { LoraSection } from '../../../common/api/runs.ts';
import { ENCODER_DEFAULT_TARGETS, isEncoderFamily } from '../../../common/api/task-data.ts';
import { encoderForTask, isEncoderSpec, type EncoderTaskRequest } from '../../model/families/bert/task.ts';
import { openModelFolder, readModelSpec, tensorTable, type ModelSpec } from '../model/index.ts';
import { loraConfigForRun, peftModulesToSave, type LoraConfig } from './config.ts';
import { countTrainable, matchTargetModules, type TargetMatch, type TrainableCount } from './targets.ts';

/** The schema's default target list (a decoder's names), which an encoder run replaces with its family's. */
const DECODER_DEFAULT_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj'];

/** The targets a run's LoRA section means on an encoder family (same rule as task-session.ts's encoderTargets). */
export function encoderRunTargets(targets: LoraSection['target_modules'], family: string): string[] | 'all-linear' {
  const keptDecoderDefault =
    Array.isArray(targets) &&
    targets.length === DECODER_DEFAULT_TARGETS.length &&
    targets.every((m, i) => m === DECODER_DEFAULT_TARGETS[i]);
  return keptDecoderDefault && isEncoderFamily(family) ? ENCODER_DEFAULT_TARGETS[family] : targets;
}

export type TaskModelView =
  | { encoder: false; architecture: string; family: string }
  | {
      encoder: true;
      architecture: string;
      family: string;
      /** The task model's spec (…ForSequenceClassification / …ForQuestionAnswering). */
      spec: ModelSpec;
      /** Modules the checkpoint lacks besides the head, trained with it (PEFT's suffix names, e.g. "pooler"). */
      created: string[];
    };

/** A model folder as the task model a run would open (without reading weights: headers only). */
export async function taskModelView(dir: string, request: EncoderTaskRequest): Promise<TaskModelView> {
  const { spec } = await readModelSpec(dir);
  if (!isEncoderSpec(spec)) return { encoder: false, architecture: spec.architecture, family: spec.family };
  const retarget = (s: ModelSpec): ModelSpec => encoderForTask(s, request) as ModelSpec;
  const folder = await openModelFolder(dir, { spec: retarget });
  await folder.close();
  const created = [...new Set(folder.created.filter((n) => /(^|\.)pooler\./.test(n)).map(() => 'pooler'))];
  return { encoder: true, architecture: spec.architecture, family: spec.family, spec: retarget(spec), created };
}

export interface TaskTrainableCount extends TrainableCount {
  /** null in full fine-tuning. */
  match: TargetMatch | null;
  config: LoraConfig | null;
  /** modules_to_save as adapter_config.json will list them. */
  savedModules: string[];
}

/** Trainable parameters of a task run: LoRA + the head (+ created modules) in full, or every weight. */
export function countTaskTrainable(
  view: Extract<TaskModelView, { encoder: true }>,
  method: 'lora' | 'qlora' | 'full',
  lora: LoraSection,
  task: 'classification' | 'question-answering',
): TaskTrainableCount {
  if (method === 'full') {
    const { base } = countTrainable(view.spec, loraConfigForRun({ ...lora, target_modules: 'all-linear' }, view.spec));
    return { lora: 0, bias: 0, modulesToSave: 0, trainable: base, base, all: base, match: null, config: null, savedModules: [] };
  }
  const modulesToSave = peftModulesToSave(task === 'classification' ? 'SEQ_CLS' : 'QUESTION_ANS', view.created) ?? [];
  const config: LoraConfig = {
    ...loraConfigForRun({ ...lora, target_modules: encoderRunTargets(lora.target_modules, view.family) }, view.spec),
    modules_to_save: modulesToSave,
  };
  const match = matchTargetModules(view.spec, config);
  const counted = countTrainable(view.spec, config, match);
  // PEFT wraps each module whose name ends with an entry, children included ("pooler" holds bert.pooler.dense.*).
  let saved = 0;
  for (const e of tensorTable(view.spec)) {
    const parts = e.hfName.split('.').slice(0, -1);
    const ancestors = parts.map((_, i) => parts.slice(0, i + 1).join('.'));
    if (ancestors.some((m) => modulesToSave.some((k) => m.endsWith(k)))) saved += e.shape.reduce((a, b) => a * b, 1);
  }
  const trainable = counted.lora + counted.bias + saved;
  return { ...counted, modulesToSave: saved, trainable, all: counted.base + counted.lora + saved, match, config, savedModules: modulesToSave };
}
