// Follows one job through the core's events: its status, progress fraction and message, and its error. Used
// for the wizard's Hub download and dataset import, the Datasets page's import and Evaluate's evaluation.
// The message is the job's last progress line as its job.progress event said it: the client renders a phrase in the
// UI's language (api/client.ts inUiLanguage), a line the job said without one stays the core's English.
import { useCallback, useRef, useState } from 'react';
import type { Job } from '../../../../common/api/jobs.ts';
import { useEvent } from '../../api/hooks.ts';
import { useStudio } from '../../state/studio.tsx';
import { t } from '../../i18n/t.ts';

export interface JobView {
  id: string;
  status: Job['status'];
  progress: number | null;
  /** The line to show, in the UI's language where the job said a phrase. */
  message: string | null;
  error: string | null;
}

/** `track(job)` starts following; `onEnd` runs once when the job reaches a final status. */
export function useJob(onEnd: (job: JobView) => void) {
  const client = useStudio();
  const [job, setJob] = useState<JobView | null>(null);
  const ended = useRef(new Set<string>());
  const tracked = useRef<string | null>(null);
  const onEndRef = useRef(onEnd);
  onEndRef.current = onEnd;

  const finish = useCallback((view: JobView) => {
    if (ended.current.has(view.id)) return;
    ended.current.add(view.id);
    onEndRef.current(view);
  }, []);

  // A job row (job.status, jobs.get) holds the last line only as the core's English, with no phrase: the line shown
  // comes from job.progress alone, so a status event never puts English back on a Korean page. Cancel asked, the
  // core's "cancelling…" is the catalogue's line instead.
  const cancelAsked = useRef(false);
  const lineOf = useCallback((next: Job, current: string | null): string | null => {
    if (cancelAsked.current && (next.status === 'running' || next.status === 'queued')) return t('job.cancelling');
    return current;
  }, []);

  const apply = useCallback(
    (next: Job) => {
      if (next.id !== tracked.current) return; // another job in the studio
      const view: JobView = { id: next.id, status: next.status, progress: next.progress, message: next.message, error: next.error };
      setJob((current) => (current && current.id === next.id ? { ...current, ...view, message: lineOf(next, current.message) } : current));
      if (next.status === 'succeeded' || next.status === 'failed' || next.status === 'cancelled') finish(view);
    },
    [finish, lineOf],
  );

  useEvent('job.status', (payload) => apply(payload));
  useEvent('job.progress', (payload) => {
    if (payload.jobId !== tracked.current) return;
    const line = cancelAsked.current ? t('job.cancelling') : payload.message;
    setJob((current) => (current && current.id === payload.jobId && current.status !== 'succeeded' ? { ...current, progress: payload.progress, message: line ?? current.message } : current));
  });

  const track = useCallback(
    (started: Job) => {
      tracked.current = started.id;
      cancelAsked.current = false;
      setJob({ id: started.id, status: started.status, progress: started.progress, message: null, error: started.error });
      // The job may have ended before the subscription saw it (a fast import): ask once more.
      if (started.status === 'succeeded' || started.status === 'failed' || started.status === 'cancelled') apply(started);
      else void client.invoke('jobs.get', { id: started.id }).then(apply, () => undefined);
    },
    [apply, client],
  );

  const cancel = useCallback(() => {
    if (!job) return;
    cancelAsked.current = true;
    void client.invoke('jobs.cancel', { id: job.id }).then(apply, () => undefined);
  }, [apply, client, job]);

  const clear = useCallback(() => {
    tracked.current = null;
    setJob(null);
  }, []);

  /** Queued or running: the job's progress row shows and its start button waits. */
  const running = job !== null && (job.status === 'running' || job.status === 'queued');

  return { job, running, track, cancel, clear };
}
