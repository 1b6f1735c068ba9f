import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StudioError, notFound } from '../../errors.ts';
import type { HandlerGroup } from './types.ts';

export const jobHandlers: HandlerGroup<'jobs'> = {
  'jobs.list': ({ projectId }, { jobs }) => jobs.list({ projectId }),
  'jobs.get': ({ id }, { jobs }) => jobs.get(id),
  'jobs.cancel': ({ id }, { jobs }) => jobs.cancel(id),
  'jobs.logTail': ({ id, lines }, { jobs, dataDir }) => {
    jobs.get(id); // an unknown job is a clear not-found, not an empty log
    const file = join(dataDir, 'logs', `${id}.log`);
    if (!existsSync(file)) return [];
    // The supervisor writes `<ISO time> <level> <text>` per line; a line's text may itself hold spaces.
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.length > 0)
      .slice(-lines)
      .map((entry) => {
        const match = /^(\S+) (debug|info|warn|error) (.*)$/s.exec(entry);
        return match ? { at: match[1], level: match[2] as 'debug' | 'info' | 'warn' | 'error', line: match[3] } : { at: '', level: 'info' as const, line: entry };
      });
  },
  'jobs.startDiagnostic': (input, { jobs, store, testJobs }) => {
    if (!testJobs) {
      throw new StudioError('failed', 'diagnostic jobs are disabled; start the studio with LORA_STUDIO_TEST_JOBS=1 to enable them');
    }
    const { kind, projectId, ...params } = input;
    if (projectId !== undefined && !store.projects.get(projectId)) throw notFound('project', projectId);
    return jobs.start(kind, params, { projectId });
  },
};
