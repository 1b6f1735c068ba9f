// `electron-vite build` produces what the desktop shell loads: an ESM main and its bundled worker, a CommonJS
// preload that requires nothing but electron (sandboxed preloads cannot load modules), and the renderer.
// The bundled worker is then run by the real supervisor through the same launcher the Electron shell uses.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventBus } from '../../src/main/core/events.ts';
import { bundledWorkerLauncher } from '../../src/main/core/jobs/launcher.ts';
import { JobSupervisor } from '../../src/main/core/jobs/supervisor.ts';
import { Store } from '../../src/main/core/store/index.ts';

const root = resolve(import.meta.dirname, '../..');
// Inside the project (out/ is ignored), so the bundle resolves its external packages from node_modules.
const outDir = join(root, 'out', `test-build-${process.pid}`);
let build: ReturnType<typeof spawnSync>;

beforeAll(() => {
  build = spawnSync(process.execPath, [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build', '--outDir', outDir, '--logLevel', 'warn'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 170_000,
  });
}, 180_000);
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe('desktop build', () => {
  it('builds main, worker, preload and renderer', () => {
    expect(build.status, String(build.stderr)).toBe(0);
    for (const f of ['main/index.js', 'main/worker.js', 'preload/index.cjs', 'renderer/index.html']) expect(existsSync(join(outDir, f)), f).toBe(true);
  });

  it('the preload is CommonJS and requires only electron', () => {
    const preload = readFileSync(join(outDir, 'preload/index.cjs'), 'utf8');
    const required = [...preload.matchAll(/require\(["']([^"']+)["']\)/g)].map((m) => m[1]);
    expect(required).toEqual(['electron']);
    expect(preload).not.toMatch(/^\s*import\s/m);
    expect(preload).toContain('exposeInMainWorld("studio"');
  });

  it('main imports electron; the worker bundle does not (it runs as plain Node)', () => {
    const main = readFileSync(join(outDir, 'main/index.js'), 'utf8');
    expect(main).toMatch(/from "electron"/);
    expect(readFileSync(join(outDir, 'main/worker.js'), 'utf8')).not.toMatch(/from "electron"/);
  });

  it('the bundled worker runs jobs under the supervisor', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lora-bundled-worker-'));
    const store = Store.open(join(dir, 'studio.db'));
    const supervisor = new JobSupervisor({
      store,
      events: new EventBus(),
      dataDir: dir,
      launcher: bundledWorkerLauncher(join(outDir, 'main/worker.js')),
      workerEnv: { LORA_STUDIO_TEST_JOBS: '1' },
    });
    try {
      const ok = await supervisor.waitFor(supervisor.start('diagnostic.sleep', { steps: 2, stepMs: 0 }).id);
      expect(ok).toMatchObject({ status: 'succeeded', exitCode: 0 });
      const crashed = await supervisor.waitFor(supervisor.start('diagnostic.crash', { mode: 'exception', message: 'bundled boom' }).id);
      expect(crashed).toMatchObject({ status: 'failed', error: 'bundled boom', exitCode: 70 });
    } finally {
      await supervisor.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
