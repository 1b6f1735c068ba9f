// The bundle's TRL script: SFTTrainer + PEFT on the bundle's pre-tokenized rows, launched with
// `accelerate launch` (one GPU, FSDP or DeepSpeed ZeRO-3 chosen by the accelerate config). The settings are
// Python dict literals at the top (SFTConfig / LoraConfig / BitsAndBytesConfig keyword arguments, named as
// those classes name them), so a person can read and edit them, and the bundle's test can check every key.
import type { RunConfig } from '../../../common/api/runs.ts';
import { BUNDLE_RECORD_FILE } from '../../../common/api/bundles.ts';
import { BUNDLE_PATHS, peftLoraConfig, trlTrainingArgs, type ModelReference } from './settings.ts';

/** A JSON-like value as a Python literal (True/False/None, dicts and lists). */
export function pythonLiteral(value: unknown, indent = 0): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`cannot write ${value} as a Python literal`);
    return String(value); // JavaScript's shortest form (1e-8, 0.0001) is valid Python
  }
  if (typeof value === 'string') return JSON.stringify(value);
  const pad = ' '.repeat(indent + 4);
  if (Array.isArray(value)) return `[${value.map((v) => pythonLiteral(v, indent)).join(', ')}]`;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([k, v]) => `${pad}${JSON.stringify(k)}: ${pythonLiteral(v, indent + 4)},`).join('\n')}\n${' '.repeat(indent)}}`;
}

export function trlScript(
  config: RunConfig,
  o: { model: ModelReference; hasEval: boolean; hasChatTemplate: boolean },
): string {
  const lora = peftLoraConfig(config);
  const quantization =
    config.method === 'qlora'
      ? {
          load_in_4bit: true,
          bnb_4bit_quant_type: 'nf4',
          bnb_4bit_use_double_quant: config.bnb_4bit_use_double_quant,
          bnb_4bit_quant_storage: 'bfloat16',
        }
      : null;
  return `#!/usr/bin/env python3
# Written by LoRA Studio: the run's settings for TRL's SFTTrainer + PEFT. Launch it with accelerate (see README.md):
#   accelerate launch ${BUNDLE_PATHS.trlScript}                                   # one GPU
#   accelerate launch --config_file ${BUNDLE_PATHS.fsdp} ${BUNDLE_PATHS.trlScript}     # FSDP
#   accelerate launch --config_file ${BUNDLE_PATHS.deepspeed} ${BUNDLE_PATHS.trlScript}  # DeepSpeed ZeRO-3
# The rows in ${BUNDLE_PATHS.trainTokenized} are the studio's own tokens and labels (-100 = not trained), so TRL uses
# them as they are: same template, same masking, same truncation.
import json
import os
import shutil

import torch
from datasets import load_dataset
from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig
from peft import LoraConfig
from trl import SFTConfig, SFTTrainer

HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = ${pythonLiteral(o.model.load)}
REVISION = ${pythonLiteral(o.model.revision)}
FROM_SCRATCH = ${pythonLiteral(config.from_scratch)}

# SFTConfig keyword arguments (transformers TrainingArguments + TRL's SFT fields)
TRAINING_ARGS = ${pythonLiteral(trlTrainingArgs(config, { hasEval: o.hasEval }))}

# PEFT LoraConfig keyword arguments (None: full fine-tuning)
LORA_CONFIG = ${pythonLiteral(lora)}

# transformers BitsAndBytesConfig keyword arguments (QLoRA: the base in NF4; None otherwise)
QUANTIZATION = ${pythonLiteral(quantization)}

TRAIN_FILE = ${pythonLiteral(BUNDLE_PATHS.trainTokenized)}
EVAL_FILE = ${pythonLiteral(o.hasEval ? BUNDLE_PATHS.evalTokenized : null)}
CHAT_TEMPLATE_FILE = ${pythonLiteral(o.hasChatTemplate ? BUNDLE_PATHS.chatTemplate : null)}
RECORD_FILE = ${pythonLiteral(BUNDLE_RECORD_FILE)}


def keep_effective_batch(args):
    """The studio's effective batch is micro_batch x accumulation; spread it over the processes when it divides."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    steps = args["gradient_accumulation_steps"]
    if world > 1:
        if steps % world == 0:
            args["gradient_accumulation_steps"] = steps // world
        else:
            print(f"note: {world} processes x accumulation {steps} makes a larger effective batch than the studio run")
    return args


def main():
    os.chdir(HERE)
    args = SFTConfig(**keep_effective_batch(dict(TRAINING_ARGS)))
    tokenizer = AutoTokenizer.from_pretrained(MODEL, revision=REVISION)
    if CHAT_TEMPLATE_FILE:
        with open(CHAT_TEMPLATE_FILE, encoding="utf-8") as f:
            tokenizer.chat_template = f.read()
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    load = {"revision": REVISION, "torch_dtype": torch.bfloat16}
    if QUANTIZATION:
        load["quantization_config"] = BitsAndBytesConfig(**QUANTIZATION, bnb_4bit_compute_dtype=torch.bfloat16)
    if FROM_SCRATCH:
        from transformers import AutoConfig

        model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(MODEL, revision=REVISION))
    else:
        model = AutoModelForCausalLM.from_pretrained(MODEL, **load)
    data_files = {"train": TRAIN_FILE}
    if EVAL_FILE:
        data_files["eval"] = EVAL_FILE
    data = load_dataset("json", data_files=data_files)
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=data["train"],
        eval_dataset=data["eval"] if EVAL_FILE else None,
        processing_class=tokenizer,
        peft_config=LoraConfig(**LORA_CONFIG) if LORA_CONFIG else None,
    )
    if trainer.is_world_process_zero():
        os.makedirs(args.output_dir, exist_ok=True)
        shutil.copyfile(RECORD_FILE, os.path.join(args.output_dir, RECORD_FILE))
    trainer.train(resume_from_checkpoint=os.environ.get("RESUME_FROM_CHECKPOINT") or None)
    if EVAL_FILE and args.eval_strategy == "no":
        trainer.evaluate()  # the studio measures eval loss once at the end when eval_steps is unset
    trainer.save_model(args.output_dir)
    trainer.save_state()
    if trainer.is_world_process_zero():
        with open(os.path.join(args.output_dir, "training_args.json"), "w", encoding="utf-8") as f:
            f.write(args.to_json_string())
        tokenizer.save_pretrained(args.output_dir)
        print(json.dumps({"output_dir": os.path.abspath(args.output_dir), "global_step": trainer.state.global_step}))


if __name__ == "__main__":
    main()
`;
}
