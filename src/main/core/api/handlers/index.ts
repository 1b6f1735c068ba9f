// Every method of the contract has exactly one handler here; a method added to the contract without a
// handler fails the type check. Add a domain: write ./<domain>.ts exporting a HandlerGroup and spread it below.
import type { MethodName } from '../../../../common/api/contract.ts';
import { jobHandlers } from './jobs.ts';
import { projectHandlers } from './projects.ts';
import { runHandlers } from './runs.ts';
import { chatHandlers } from './chat.ts';
import { systemHandlers } from './system.ts';
import { modelHandlers } from './models.ts';
import { datasetHandlers } from './datasets.ts';
import { dialogHandlers } from './dialogs.ts';
import { adapterHandlers } from './adapters.ts';
import { exportHandlers } from './exports.ts';
import { settingsHandlers } from './settings.ts';
import { hubHandlers } from './hub.ts';
import { bundleHandlers } from './bundles.ts';
import { taskHandlers } from './tasks.ts';
import { compareHandlers } from './compare.ts';
import { taskDataHandlers } from './task-data.ts';
import { fusionEvalHandlers } from './fusion-eval.ts';
import type { Handler } from './types.ts';

export const handlers: { [M in MethodName]: Handler<M> } = {
  ...systemHandlers,
  ...projectHandlers,
  ...jobHandlers,
  ...runHandlers,
  ...chatHandlers,
  ...modelHandlers,
  ...datasetHandlers,
  ...dialogHandlers,
  ...adapterHandlers,
  ...exportHandlers,
  ...settingsHandlers,
  ...hubHandlers,
  ...bundleHandlers,
  ...taskHandlers,
  ...compareHandlers,
  ...taskDataHandlers,
  ...fusionEvalHandlers,
};
