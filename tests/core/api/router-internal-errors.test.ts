// An unexpected error inside a handler (not a StudioError) answers `internal` with its message; the terminal of
// the face (serve, CLI) gets one line naming the log file, and the stack trace goes to that file only.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createStudioCore } from '../../../src/main/core/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'lora-internal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('internal errors', () => {
  it('keep the stack out of the terminal and in <data>/logs/core.log', async () => {
    const core = createStudioCore({ dataDir: dir, testJobs: false });
    core.store.close(); // the database is gone under the handlers: they fail with a plain Error
    const printed: string[] = [];
    const spy = vi
      .spyOn(console, 'error')
      .mockImplementation((...args: unknown[]) => void printed.push(args.map(String).join(' ')));
    try {
      const outcome = await core.invokeSafe('projects.list', {});
      expect(outcome).toMatchObject({
        ok: false,
        error: { code: 'internal', message: expect.stringMatching(/^internal error: /) },
      });
    } finally {
      spy.mockRestore();
    }
    const log = join(dir, 'logs', 'core.log');
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(
      new RegExp(`^projects\\.list failed: .* \\(details in ${log.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)$`),
    );
    expect(printed[0]).not.toMatch(/\n\s+at /);
    expect(existsSync(log)).toBe(true);
    expect(readFileSync(log, 'utf8')).toMatch(/projects\.list failed: .*\n\s+at /);
    await core.close().catch(() => {});
  });
});
