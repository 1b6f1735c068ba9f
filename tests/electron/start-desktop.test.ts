import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const script = resolve(import.meta.dirname, '../../scripts/start-desktop.js');

describe('npm start without an Electron binary', () => {
  it('says so in one sentence, suggests npm run serve, and exits 1', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'no-electron-'));
    try {
      const result = await new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
        execFile(process.execPath, [script], { env: { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: empty, LORA_STUDIO_NO_ELECTRON_DOWNLOAD: '1' } }, (err, stdout, stderr) =>
          done({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr }),
        );
      });
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^LoRA Studio cannot open the desktop app because Electron's binary is not available here \(.+\); run `npm run serve` to use the studio in your browser instead\.$/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
