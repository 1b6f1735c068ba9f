// The registry of job kinds the worker can run. Add a kind: write ./<kind>.ts exporting a JobKind,
// then add it to `productionKinds` below (one line).
import type { JobKind } from '../job-kind.ts';
import { crashJob, sleepJob, turnJob } from './diagnostics.ts';
import { trainJob } from './train.ts';
import { evalJob } from './eval.ts';
import { generateJob } from './generate.ts';
import { modelPullJob } from './model-pull.ts';
import { datasetImportJob } from './dataset-import.ts';
import { exportJob } from './export.ts';
import { adapterCombineJob } from './merge.ts';
import { hubPushJob } from './hub-push.ts';
import { runBundleJob } from './run-bundle.ts';
import { taskJob } from './task.ts';
import { fusionEvalJob } from './fusion-eval.ts';

const productionKinds: JobKind[] = [trainJob, evalJob, generateJob, modelPullJob, datasetImportJob, exportJob, adapterCombineJob, runBundleJob, hubPushJob, taskJob, fusionEvalJob];

const diagnosticKinds: JobKind[] = [sleepJob, crashJob, turnJob];

export const TEST_JOBS_ENV = 'LORA_STUDIO_TEST_JOBS';

export function jobKinds(env: NodeJS.ProcessEnv = process.env): Map<string, JobKind> {
  const kinds = env[TEST_JOBS_ENV] === '1' ? [...productionKinds, ...diagnosticKinds] : productionKinds;
  return new Map(kinds.map((k) => [k.name, k]));
}
