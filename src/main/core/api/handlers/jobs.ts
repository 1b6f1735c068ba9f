import { StudioError, notFound } from '../../errors.ts';
import type { HandlerGroup } from './types.ts';

export const jobHandlers: HandlerGroup<'jobs'> = {
  'jobs.list': ({ projectId }, { jobs }) => jobs.list({ projectId }),
  'jobs.get': ({ id }, { jobs }) => jobs.get(id),
  'jobs.cancel': ({ id }, { jobs }) => jobs.cancel(id),
  'jobs.startDiagnostic': (input, { jobs, store, testJobs }) => {
    if (!testJobs) {
      throw new StudioError('failed', 'diagnostic jobs are disabled; start the studio with LORA_STUDIO_TEST_JOBS=1 to enable them');
    }
    const { kind, projectId, ...params } = input;
    if (projectId !== undefined && !store.projects.get(projectId)) throw notFound('project', projectId);
    return jobs.start(kind, params, { projectId });
  },
};
