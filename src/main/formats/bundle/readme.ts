// The bundle's README: what is in it, how to launch it (one node, several nodes, Slurm), how each studio setting
// maps to Axolotl and TRL, and how to bring the result back (`lora-studio import-run`).
import type { ReproducibilityRecord } from '../../../common/api/bundles.ts';
import { BUNDLE_RECORD_FILE } from '../../../common/api/bundles.ts';
import { BUNDLE_PATHS, settingMappings, type ModelReference } from './settings.ts';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function bundleReadme(
  record: ReproducibilityRecord,
  model: ModelReference,
  o: { hasEval: boolean; hasChatTemplate: boolean },
): string {
  const config = record.settings;
  const title = record.run ? `run "${record.run.name}" (${record.run.id})` : 'a run config';
  const modelLines = model.copyLocalFolder
    ? [
        `The base model is a local folder on the machine that wrote this bundle: \`${model.localPath}\`.`,
        `Copy it next to this README as \`${model.load}\` (every node needs it), e.g. \`rsync -a '${model.localPath}/' ${model.load}/\`.`,
      ]
    : [
        `The base model is \`${model.load}\`${model.revision ? ` at revision \`${model.revision}\`` : ''} on the Hugging Face Hub.`,
      ];
  const mapping = settingMappings(config)
    .map(
      (m) =>
        `| \`${cell(m.studio)}\` | ${cell(m.value)} | \`${cell(m.axolotl)}\` | \`${cell(m.trl)}\` | ${cell(m.note ?? '')} |`,
    )
    .join('\n');
  return `# LoRA Studio job bundle: ${title}

Written by LoRA Studio ${record.app_version} on ${record.created_at}. It trains the same run on GPUs with an
established trainer — **Axolotl** or **TRL's SFTTrainer + PEFT** — launched by \`accelerate\` (one GPU, FSDP or
DeepSpeed ZeRO-3, one node or several). Nothing here needs LoRA Studio; bring the result back with
\`lora-studio import-run ${BUNDLE_PATHS.outputDir}\`.

## What is here

| file | what |
| --- | --- |
| \`${BUNDLE_PATHS.trainReadable}\`${o.hasEval ? `, \`${BUNDLE_PATHS.evalReadable}\`` : ''} | the rows as the trainer's dataset formats write them (${o.hasChatTemplate ? 'chat `messages`' : '`prompt`/`completion` or `text`'}), for reading |
| \`${BUNDLE_PATHS.trainTokenized}\`${o.hasEval ? `, \`${BUNDLE_PATHS.evalTokenized}\`` : ''} | the same rows tokenized exactly as the studio trains on them: \`input_ids\`, \`attention_mask\`, \`labels\` (-100 where no loss is taken) — both trainers use these |
${o.hasChatTemplate ? `| \`${BUNDLE_PATHS.chatTemplate}\` | the chat template the rows were rendered with (the TRL script sets it on the tokenizer it saves) |\n` : ''}| \`${BUNDLE_PATHS.axolotl}\` | Axolotl config |
| \`${BUNDLE_PATHS.trlScript}\` | TRL \`SFTTrainer\` + PEFT script |
| \`${BUNDLE_PATHS.fsdp}\` | accelerate config: PyTorch FSDP2 |
| \`${BUNDLE_PATHS.deepspeed}\` | accelerate config: DeepSpeed ZeRO-3 |
| \`${BUNDLE_RECORD_FILE}\` | the reproducibility record: data hash, template, model revision, settings, seed, app version; \`import-run\` checks the result against it |

Rows: ${record.dataset.train_rows} for training (${record.dataset.train_tokens} tokens), ${record.dataset.eval_rows} for evaluation.
Data hash: \`${record.dataset.hash}\`. Seed: ${record.seed}.

## The model

${modelLines.join('\n')}

## Launch

Install once per machine: \`pip install "trl>=0.20" peft accelerate datasets\` (TRL) or \`pip install axolotl\`
(plus \`deepspeed\` for ZeRO-3, \`bitsandbytes\` for QLoRA). Run every command from this folder.

Single node (set \`num_processes\` in the accelerate config to the GPUs of the node, or pass \`--num_processes\`):

\`\`\`sh
accelerate launch ${BUNDLE_PATHS.trlScript}                                          # one GPU
accelerate launch --config_file ${BUNDLE_PATHS.fsdp} --num_processes 8 ${BUNDLE_PATHS.trlScript}
accelerate launch --config_file ${BUNDLE_PATHS.deepspeed} --num_processes 8 ${BUNDLE_PATHS.trlScript}
axolotl train ${BUNDLE_PATHS.axolotl} --launcher accelerate -- --config_file=${BUNDLE_PATHS.fsdp} --num_processes=8
\`\`\`

Several nodes (run on every node; \`MACHINE_RANK\` is 0 on the first, \`MAIN_IP\` its address):

\`\`\`sh
accelerate launch --config_file ${BUNDLE_PATHS.fsdp} --num_machines 2 --num_processes 16 \\
  --machine_rank $MACHINE_RANK --main_process_ip $MAIN_IP --main_process_port 29500 ${BUNDLE_PATHS.trlScript}
\`\`\`

Slurm (\`sbatch train.sbatch\` with this as \`train.sbatch\`; one task per node, accelerate starts the GPU processes):

\`\`\`sh
#!/bin/bash
#SBATCH --job-name=lora-studio-run
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=1
#SBATCH --gpus-per-node=8
#SBATCH --cpus-per-task=32
#SBATCH --time=12:00:00
set -euo pipefail
cd "$SLURM_SUBMIT_DIR"
MAIN_IP=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
srun bash -c "accelerate launch --config_file ${BUNDLE_PATHS.fsdp} \\
  --num_machines $SLURM_NNODES --num_processes $((SLURM_NNODES * 8)) \\
  --machine_rank \\$SLURM_NODEID --main_process_ip $MAIN_IP --main_process_port 29500 \\
  --rdzv_backend c10d ${BUNDLE_PATHS.trlScript}"
\`\`\`

Effective batch: the studio run used micro-batch ${config.micro_batch_size} × accumulation ${config.gradient_accumulation_steps}.
Across N processes the batch is N times larger; the TRL script divides \`gradient_accumulation_steps\` by N when it
divides evenly, so the number of updates and the learning-rate schedule stay those of the studio run. For Axolotl,
lower \`gradient_accumulation_steps\` in \`${BUNDLE_PATHS.axolotl}\` yourself.

Data order: both trainers shuffle with the seed through PyTorch's sampler, not the studio's permutation, so the
loss curve matches in level and trend, not step for step.

## Settings: studio → Axolotl → TRL / PEFT

| studio | value | Axolotl | TRL / PEFT | note |
| --- | --- | --- | --- | --- |
${mapping}

## Bring the result back

The output lands in \`${BUNDLE_PATHS.outputDir}/\` (\`adapter_config.json\`, \`adapter_model.safetensors\`,
\`trainer_state.json\`, \`checkpoint-N/\`). Copy that folder back, then:

\`\`\`sh
lora-studio import-run ${BUNDLE_PATHS.outputDir} --record ${BUNDLE_RECORD_FILE}
\`\`\`

or Runs → **Import run…** in the studio. The adapter is checked against the base model (keys, shapes, target
modules), its loss curves come from \`trainer_state.json\`, and every difference from \`${BUNDLE_RECORD_FILE}\` is shown.
`;
}
