// Every command group of `lora-studio`, one file each. Add a group: write ./<group>.ts exporting a
// `register<Group>(program)` function and add one line to the list below.
import type { Command } from 'commander';
import { registerDoctor } from './doctor.ts';
import { registerJobs } from './jobs.ts';
import { registerProjects } from './projects.ts';
import { registerServe } from './serve.ts';
import { registerTrain } from './train.ts';
import { registerEval } from './eval.ts';
import { registerModel } from './model.ts';
import { registerAdapter } from './adapter.ts';
import { registerMerge } from './merge.ts';
import { registerExport } from './export.ts';
import { registerDataset } from './dataset.ts';
import { registerModelPull } from './model-pull.ts';
import { registerDemo } from './demo.ts';
import { registerChat } from './chat.ts';
import { registerRunBundle } from './run-bundle.ts';
import { registerPush } from './push.ts';
import { registerFuse } from './fuse.ts';
import { registerPredict } from './predict.ts';
import { registerCompare } from './compare.ts';

export const commandGroups: ((program: Command) => void)[] = [
  registerServe,
  registerProjects,
  registerJobs,
  registerDoctor,
  registerTrain,
  registerEval,
  registerModel,
  registerAdapter,
  registerMerge,
  registerExport,
  registerDataset,
  registerModelPull, // after registerModel: adds `pull` to the `model` group
  registerDemo,
  registerChat,
  registerRunBundle,
  registerPush,
  registerFuse,
  registerPredict,
  registerCompare,
];
