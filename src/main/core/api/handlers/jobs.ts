import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StudioError, notFound } from '../../errors.ts';
import type { HandlerGroup } from './types.ts';

type LogEntry = { at: string; level: 'debug' | 'info' | 'warn' | 'error'; line: string };

/**
 * A job log file as the pages show it. The supervisor writes `<ISO time> <level> <text>` per entry; an error's text
 * in the file is its stack, whose frames (`    at …`) and class name stay in the file for whoever reads it there and
 * never reach a page (the live line already said where the details are). Other lines without a header continue the
 * entry above.
 */
export function logEntries(text: string): LogEntry[] {
  const out: LogEntry[] = [];
  for (const raw of text.split('\n')) {
    if (raw.length === 0) continue;
    const match = /^(\S+) (debug|info|warn|error) (.*)$/s.exec(raw);
    // an error's stack starts with its class ("DatasetProblemError: broken.jsonl:1 …"): the page shows the message
    if (match) out.push({ at: match[1], level: match[2] as LogEntry['level'], line: match[2] === 'error' ? match[3].replace(/^\w*Error: /, '') : match[3] });
    else if (/^\s+at \S/.test(raw)) continue; // a stack frame
    else if (out.length) out[out.length - 1].line += `\n${raw}`;
    else out.push({ at: '', level: 'info', line: raw });
  }
  return out;
}

export const jobHandlers: HandlerGroup<'jobs'> = {
  'jobs.list': ({ projectId }, { jobs }) => jobs.list({ projectId }),
  'jobs.get': ({ id }, { jobs }) => jobs.get(id),
  'jobs.cancel': ({ id }, { jobs }) => jobs.cancel(id),
  'jobs.logTail': ({ id, lines }, { jobs, dataDir }) => {
    jobs.get(id); // an unknown job is a clear not-found, not an empty log
    const file = join(dataDir, 'logs', `${id}.log`);
    if (!existsSync(file)) return [];
    return logEntries(readFileSync(file, 'utf8')).slice(-lines);
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
