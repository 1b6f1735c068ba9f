import { describe, expect, it } from 'vitest';
import { jobKinds, TEST_JOBS_ENV } from '../../src/main/worker/jobs/index.ts';
import { sleep, JobCancelled } from '../../src/main/worker/job-kind.ts';

describe('worker job registry', () => {
  it('offers the diagnostic kinds only when LORA_STUDIO_TEST_JOBS=1', () => {
    expect(jobKinds({}).has('diagnostic.sleep')).toBe(false);
    expect(jobKinds({}).has('diagnostic.crash')).toBe(false);
    const withTests = jobKinds({ [TEST_JOBS_ENV]: '1' });
    expect(withTests.has('diagnostic.sleep')).toBe(true);
    expect(withTests.has('diagnostic.crash')).toBe(true);
  });

  it('every kind has a unique name, a doc and a params schema', () => {
    const kinds = [...jobKinds({ [TEST_JOBS_ENV]: '1' }).values()];
    expect(new Set(kinds.map((k) => k.name)).size).toBe(kinds.length);
    for (const kind of kinds) {
      expect(kind.doc.length, kind.name).toBeGreaterThan(0);
      expect(typeof kind.params.safeParse, kind.name).toBe('function');
    }
  });

  it('sleep rejects with JobCancelled as soon as the signal aborts', async () => {
    const controller = new AbortController();
    const t0 = Date.now();
    const pending = sleep(10_000, controller.signal);
    setTimeout(() => controller.abort(), 10);
    await expect(pending).rejects.toBeInstanceOf(JobCancelled);
    expect(Date.now() - t0).toBeLessThan(2000);
    await expect(sleep(5, new AbortController().signal)).resolves.toBeUndefined();
  });
});
