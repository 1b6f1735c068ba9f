// Calls onEnd once when a job reaches a final status (succeeded, failed, cancelled): from its job.status event, or
// from one jobs.get when the job ended before the page was listening (a quick failure). Pages use it to take
// down a "Merging…" or "Exporting…" notice the moment its job is over, whatever the outcome.
import { useEffect, useRef } from 'react';
import type { Job } from '../../../common/api/jobs.ts';
import { useEvent } from '../api/hooks.ts';
import { useStudio } from '../state/studio.tsx';

const FINAL = new Set<Job['status']>(['succeeded', 'failed', 'cancelled']);

export function useJobEnd(jobId: string | null, onEnd: (job: Job) => void): void {
  const client = useStudio();
  const onEndRef = useRef(onEnd);
  onEndRef.current = onEnd;
  const ended = useRef<string | null>(null);
  const end = (job: Job) => {
    if (job.id !== jobId || !FINAL.has(job.status) || ended.current === job.id) return;
    ended.current = job.id;
    onEndRef.current(job);
  };
  useEvent('job.status', end);
  useEffect(() => {
    if (!jobId) return;
    let live = true;
    client.invoke('jobs.get', { id: jobId }).then(
      (job) => live && end(job),
      () => undefined,
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- once per job followed
  }, [client, jobId]);
}
