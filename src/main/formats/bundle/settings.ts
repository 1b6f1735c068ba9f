// A studio run config in the words of the trainers a bundle targets: Axolotl's YAML keys, TRL's SFTConfig (on
// transformers' TrainingArguments), PEFT's LoraConfig, and accelerate's config files for FSDP and DeepSpeed
// ZeRO-3. Every key here is one of those projects' own field names (tests/formats/bundle/upstream-keys.json
// lists them with the source files they were read from, and a test checks every emitted key against it).
import type { RunConfig } from '../../../common/api/runs.ts';

/** Folder names inside a bundle, relative to its root (the launch commands run there). */
export const BUNDLE_PATHS = {
  trainReadable: 'data/train.jsonl',
  evalReadable: 'data/eval.jsonl',
  trainTokenized: 'data/tokenized/train.jsonl',
  evalTokenized: 'data/tokenized/eval.jsonl',
  chatTemplate: 'chat_template.jinja',
  axolotl: 'axolotl.yaml',
  trlScript: 'train_trl.py',
  fsdp: 'accelerate/fsdp.yaml',
  deepspeed: 'accelerate/deepspeed_zero3.yaml',
  readme: 'README.md',
  outputDir: 'output',
} as const;

export interface ModelReference {
  /** What the trainer loads: a Hub id (with revision) or the folder the user copies next to the bundle. */
  load: string;
  revision: string | null;
  /** True when the model is a local folder that must be copied to the training machine. */
  copyLocalFolder: boolean;
  localPath: string;
  /** The decoder layer class FSDP wraps (e.g. LlamaDecoderLayer), from the architecture. */
  decoderLayerClass: string | null;
}

/** transformers' decoder layer class name for a CausalLM architecture (LlamaForCausalLM → LlamaDecoderLayer). */
export function decoderLayerClass(architecture: string | null): string | null {
  if (!architecture) return null;
  const m = /^(.+)For(CausalLM|ConditionalGeneration)$/.exec(architecture);
  if (!m) return null;
  if (m[1] === 'GPT2LMHead' || m[1].startsWith('GPT2')) return 'GPT2Block';
  return `${m[1]}DecoderLayer`;
}

/** PEFT LoraConfig keyword arguments for the run (null for full fine-tuning). */
export function peftLoraConfig(config: RunConfig): Record<string, unknown> | null {
  if (config.method === 'full') return null;
  return {
    r: config.lora.r,
    lora_alpha: config.lora.lora_alpha,
    lora_dropout: config.lora.lora_dropout,
    target_modules: config.lora.target_modules,
    bias: config.lora.bias,
    use_rslora: config.lora.use_rslora,
    task_type: 'CAUSAL_LM',
  };
}

/** The studio's eval schedule: every eval_steps updates, or once at the end (HF has no "only at the end"). */
function evalSchedule(config: RunConfig, hasEval: boolean): { strategy: 'no' | 'steps'; steps: number | null } {
  if (!hasEval || config.eval_steps === null) return { strategy: 'no', steps: null };
  return { strategy: 'steps', steps: config.eval_steps };
}

/** TRL SFTConfig keyword arguments (SFTConfig extends transformers' TrainingArguments). */
export function trlTrainingArgs(config: RunConfig, o: { hasEval: boolean }): Record<string, unknown> {
  const evaluation = evalSchedule(config, o.hasEval);
  const args: Record<string, unknown> = {
    output_dir: BUNDLE_PATHS.outputDir,
    seed: config.seed,
    data_seed: config.seed,
    learning_rate: config.learning_rate,
    num_train_epochs: config.num_train_epochs,
    max_steps: config.max_steps ?? -1,
    per_device_train_batch_size: config.micro_batch_size,
    per_device_eval_batch_size: config.micro_batch_size,
    gradient_accumulation_steps: config.gradient_accumulation_steps,
    lr_scheduler_type: config.lr_scheduler_type,
    weight_decay: config.weight_decay,
    adam_beta1: config.adam_beta1,
    adam_beta2: config.adam_beta2,
    adam_epsilon: config.adam_epsilon,
    optim: 'adamw_torch',
    max_grad_norm: config.max_grad_norm ?? 0,
    max_length: config.max_seq_length,
    packing: config.packing,
    logging_steps: config.logging_steps,
    eval_strategy: evaluation.strategy,
    save_strategy: config.save_steps === null ? 'epoch' : 'steps',
    save_total_limit: config.save_total_limit,
    // the tokenized rows carry labels (-100 where the studio does not train): used as they are
    completion_only_loss: false,
    remove_unused_columns: true,
    gradient_checkpointing: true,
    bf16: true,
    report_to: 'none',
  };
  if (config.warmup_steps > 0) args.warmup_steps = config.warmup_steps;
  else args.warmup_ratio = config.warmup_ratio;
  if (evaluation.steps !== null) args.eval_steps = evaluation.steps;
  if (config.save_steps !== null) args.save_steps = config.save_steps;
  if (config.packing) args.packing_strategy = 'bfd';
  return args;
}

/** Axolotl's YAML config (top-level keys and one dataset entry each for train and eval). */
export function axolotlConfig(
  config: RunConfig,
  o: { model: ModelReference; hasEval: boolean },
): Record<string, unknown> {
  const out: Record<string, unknown> = { base_model: o.model.load };
  if (o.model.revision) out.revision_of_model = o.model.revision;
  // Pre-tokenized rows (input_ids, attention_mask, labels): Axolotl trains on them as they are ("type:" empty).
  out.datasets = [{ path: BUNDLE_PATHS.trainTokenized, ds_type: 'json', type: null, split: 'train' }];
  if (o.hasEval) {
    out.test_datasets = [{ path: BUNDLE_PATHS.evalTokenized, ds_type: 'json', type: null, split: 'train' }];
  }
  out.val_set_size = 0;
  out.dataset_prepared_path = 'prepared';
  out.output_dir = BUNDLE_PATHS.outputDir;
  out.sequence_len = config.max_seq_length;
  out.sample_packing = config.packing;
  out.eval_sample_packing = config.packing;
  if (config.method !== 'full') {
    out.adapter = config.method === 'qlora' ? 'qlora' : 'lora';
    out.lora_r = config.lora.r;
    out.lora_alpha = config.lora.lora_alpha;
    out.lora_dropout = config.lora.lora_dropout;
    if (config.lora.target_modules === 'all-linear') out.lora_target_linear = true;
    else out.lora_target_modules = config.lora.target_modules;
    out.peft_use_rslora = config.lora.use_rslora;
  }
  if (config.method === 'qlora') {
    out.load_in_4bit = true;
    out.bnb_config_kwargs = { bnb_4bit_quant_type: 'nf4', bnb_4bit_use_double_quant: config.bnb_4bit_use_double_quant };
  }
  out.seed = config.seed;
  out.learning_rate = config.learning_rate;
  out.num_epochs = config.num_train_epochs;
  if (config.max_steps !== null) out.max_steps = config.max_steps;
  out.micro_batch_size = config.micro_batch_size;
  out.eval_batch_size = config.micro_batch_size;
  out.gradient_accumulation_steps = config.gradient_accumulation_steps;
  out.lr_scheduler = config.lr_scheduler_type;
  if (config.warmup_steps > 0) out.warmup_steps = config.warmup_steps;
  else out.warmup_ratio = config.warmup_ratio;
  out.optimizer = 'adamw_torch';
  out.weight_decay = config.weight_decay;
  out.adam_beta1 = config.adam_beta1;
  out.adam_beta2 = config.adam_beta2;
  out.adam_epsilon = config.adam_epsilon;
  out.max_grad_norm = config.max_grad_norm ?? 0;
  out.logging_steps = config.logging_steps;
  const evaluation = evalSchedule(config, o.hasEval);
  if (evaluation.steps !== null) out.eval_steps = evaluation.steps;
  else if (o.hasEval) out.evals_per_epoch = 1;
  if (config.save_steps !== null) out.save_steps = config.save_steps;
  else out.save_strategy = 'epoch';
  if (config.save_total_limit !== null) out.save_total_limit = config.save_total_limit;
  out.bf16 = 'auto';
  out.gradient_checkpointing = true;
  return out;
}

const ACCELERATE_COMMON = {
  compute_environment: 'LOCAL_MACHINE',
  debug: false,
  machine_rank: 0,
  main_training_function: 'main',
  mixed_precision: 'bf16',
  num_machines: 1,
  num_processes: 8,
  rdzv_backend: 'static',
  same_network: true,
  use_cpu: false,
};

/** accelerate config for PyTorch FSDP2 (full sharding of parameters, gradients and optimizer state). */
export function accelerateFsdpConfig(model: ModelReference): Record<string, unknown> {
  const fsdp: Record<string, unknown> = {
    fsdp_version: 2,
    fsdp_reshard_after_forward: true,
    fsdp_auto_wrap_policy: model.decoderLayerClass ? 'TRANSFORMER_BASED_WRAP' : 'SIZE_BASED_WRAP',
    fsdp_cpu_ram_efficient_loading: true,
    fsdp_offload_params: false,
    fsdp_activation_checkpointing: false,
    // a full state dict on rank 0 makes save_model write an ordinary PEFT adapter folder
    fsdp_state_dict_type: 'FULL_STATE_DICT',
  };
  if (model.decoderLayerClass) fsdp.fsdp_transformer_layer_cls_to_wrap = model.decoderLayerClass;
  else fsdp.fsdp_min_num_params = 100_000_000;
  return { ...ACCELERATE_COMMON, distributed_type: 'FSDP', fsdp_config: fsdp };
}

/** accelerate config for DeepSpeed ZeRO-3 (no offload; 16-bit weights gathered at save). */
export function accelerateDeepSpeedConfig(config: RunConfig): Record<string, unknown> {
  return {
    ...ACCELERATE_COMMON,
    distributed_type: 'DEEPSPEED',
    deepspeed_config: {
      zero_stage: 3,
      zero3_init_flag: true,
      zero3_save_16bit_model: true,
      offload_optimizer_device: 'none',
      offload_param_device: 'none',
      gradient_accumulation_steps: config.gradient_accumulation_steps,
      gradient_clipping: config.max_grad_norm ?? 0,
    },
  };
}

/** One line of the README's mapping table: a studio setting, its Axolotl and TRL/PEFT names, and its value. */
export interface SettingMapping {
  studio: string;
  axolotl: string;
  trl: string;
  value: string;
  note?: string;
}

export function settingMappings(config: RunConfig): SettingMapping[] {
  const v = (x: unknown) => (x === null ? 'null' : typeof x === 'string' ? x : JSON.stringify(x));
  const targets = config.lora.target_modules;
  return [
    {
      studio: 'model',
      axolotl: 'base_model (+ revision_of_model)',
      trl: 'from_pretrained(MODEL, revision=REVISION)',
      value: v(config.model),
    },
    {
      studio: 'method',
      axolotl: 'adapter: lora | qlora (none = full)',
      trl: 'peft_config (LoraConfig); BitsAndBytesConfig for qlora',
      value: config.method,
    },
    { studio: 'lora.r', axolotl: 'lora_r', trl: 'LoraConfig.r', value: v(config.lora.r) },
    {
      studio: 'lora.lora_alpha',
      axolotl: 'lora_alpha',
      trl: 'LoraConfig.lora_alpha',
      value: v(config.lora.lora_alpha),
    },
    {
      studio: 'lora.lora_dropout',
      axolotl: 'lora_dropout',
      trl: 'LoraConfig.lora_dropout',
      value: v(config.lora.lora_dropout),
    },
    {
      studio: 'lora.target_modules',
      axolotl: targets === 'all-linear' ? 'lora_target_linear: true' : 'lora_target_modules',
      trl: 'LoraConfig.target_modules',
      value: v(targets),
    },
    {
      studio: 'lora.bias',
      axolotl: '(none: Axolotl trains no biases)',
      trl: 'LoraConfig.bias',
      value: config.lora.bias,
      note: config.lora.bias !== 'none' ? 'Axolotl cannot express it: use the TRL script' : undefined,
    },
    {
      studio: 'lora.use_rslora',
      axolotl: 'peft_use_rslora',
      trl: 'LoraConfig.use_rslora',
      value: v(config.lora.use_rslora),
    },
    {
      studio: 'bnb_4bit_use_double_quant',
      axolotl: 'bnb_config_kwargs.bnb_4bit_use_double_quant',
      trl: 'BitsAndBytesConfig(bnb_4bit_use_double_quant)',
      value: v(config.bnb_4bit_use_double_quant),
      note: 'QLoRA only',
    },
    {
      studio: 'from_scratch',
      axolotl: '(none: Axolotl loads the checkpoint)',
      trl: 'AutoModelForCausalLM.from_config (FROM_SCRATCH)',
      value: v(config.from_scratch),
      note: config.from_scratch ? 'Axolotl cannot express it: use the TRL script' : undefined,
    },
    { studio: 'learning_rate', axolotl: 'learning_rate', trl: 'learning_rate', value: v(config.learning_rate) },
    { studio: 'num_train_epochs', axolotl: 'num_epochs', trl: 'num_train_epochs', value: v(config.num_train_epochs) },
    { studio: 'max_steps', axolotl: 'max_steps', trl: 'max_steps (-1 = by epochs)', value: v(config.max_steps) },
    {
      studio: 'micro_batch_size',
      axolotl: 'micro_batch_size',
      trl: 'per_device_train_batch_size',
      value: v(config.micro_batch_size),
      note: 'per GPU',
    },
    {
      studio: 'gradient_accumulation_steps',
      axolotl: 'gradient_accumulation_steps',
      trl: 'gradient_accumulation_steps',
      value: v(config.gradient_accumulation_steps),
      note: 'the TRL script divides it by the number of processes when it can, keeping the effective batch',
    },
    {
      studio: 'warmup_steps / warmup_ratio',
      axolotl: 'warmup_steps / warmup_ratio',
      trl: 'warmup_steps / warmup_ratio',
      value: config.warmup_steps > 0 ? v(config.warmup_steps) : `ratio ${config.warmup_ratio}`,
    },
    { studio: 'lr_scheduler_type', axolotl: 'lr_scheduler', trl: 'lr_scheduler_type', value: config.lr_scheduler_type },
    { studio: 'weight_decay', axolotl: 'weight_decay', trl: 'weight_decay', value: v(config.weight_decay) },
    {
      studio: 'adam_beta1 / adam_beta2 / adam_epsilon',
      axolotl: 'adam_beta1 / adam_beta2 / adam_epsilon',
      trl: 'adam_beta1 / adam_beta2 / adam_epsilon',
      value: `${config.adam_beta1} / ${config.adam_beta2} / ${config.adam_epsilon}`,
    },
    {
      studio: 'max_grad_norm',
      axolotl: 'max_grad_norm',
      trl: 'max_grad_norm (0 = off)',
      value: v(config.max_grad_norm),
    },
    {
      studio: 'max_seq_length',
      axolotl: 'sequence_len',
      trl: 'max_length',
      value: v(config.max_seq_length),
      note: 'rows are already cut to it',
    },
    {
      studio: 'packing',
      axolotl: 'sample_packing',
      trl: 'packing (+ packing_strategy bfd)',
      value: v(config.packing),
      note: 'no attention across packed rows needs FlashAttention on the GPU side',
    },
    {
      studio: 'train_on',
      axolotl: 'labels column (-100 = not trained)',
      trl: 'labels column (used as is)',
      value: config.train_on,
    },
    {
      studio: 'dataset.template',
      axolotl: 'input_ids rendered by the studio',
      trl: 'input_ids rendered by the studio; chat_template.jinja set on the tokenizer',
      value: config.dataset.template.kind,
    },
    {
      studio: 'dataset.eval_split',
      axolotl: 'test_datasets (val_set_size 0)',
      trl: 'eval_dataset',
      value: config.dataset.eval_split.kind,
    },
    { studio: 'seed', axolotl: 'seed', trl: 'seed, data_seed', value: v(config.seed) },
    { studio: 'logging_steps', axolotl: 'logging_steps', trl: 'logging_steps', value: v(config.logging_steps) },
    {
      studio: 'eval_steps',
      axolotl: 'eval_steps (null: evals_per_epoch 1)',
      trl: 'eval_strategy steps + eval_steps (null: evaluate() at the end)',
      value: v(config.eval_steps),
    },
    {
      studio: 'save_steps',
      axolotl: 'save_steps (null: save_strategy epoch)',
      trl: 'save_strategy + save_steps',
      value: v(config.save_steps),
    },
    {
      studio: 'save_total_limit',
      axolotl: 'save_total_limit',
      trl: 'save_total_limit',
      value: v(config.save_total_limit),
    },
  ];
}
