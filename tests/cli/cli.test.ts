// Runs `lora-studio` as a user would (bin/lora-studio.js in a child process) against a temp data dir.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = resolve(import.meta.dirname, '../../bin/lora-studio.js');
let dataDir: string;

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'lora-cli-'));
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    execFile(process.execPath, [bin, ...args], { env: { ...process.env, LORA_STUDIO_HOME: dataDir, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolvePromise({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('lora-studio projects', () => {
  it('creates, lists, shows, renames and deletes, with --json', async () => {
    const created = await cli(['projects', 'create', 'Support bot', '--description', 'answers tickets', '--json']);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    const project = JSON.parse(created.stdout) as { id: string; name: string };
    expect(project).toMatchObject({ name: 'Support bot', description: 'answers tickets' });

    const list = await cli(['projects', 'list', '--json']);
    expect(JSON.parse(list.stdout).map((p: { id: string }) => p.id)).toEqual([project.id]);
    const table = await cli(['projects', 'list']);
    expect(table.stdout).toMatch(/^NAME\s+ID\s+CREATED\s+DESCRIPTION\nSupport bot\s+[0-9a-f-]{36}\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+answers tickets\n$/);

    const byName = await cli(['projects', 'show', 'support BOT', '--json']);
    expect(JSON.parse(byName.stdout).id).toBe(project.id);

    const renamed = await cli(['projects', 'rename', project.id, 'Help desk']);
    expect(renamed).toMatchObject({ code: 0, stdout: 'Renamed "Support bot" to "Help desk"\n' });

    const refused = await cli(['projects', 'delete', 'Help desk']); // stdin is not a TTY here
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe('error: refusing to delete "Help desk" without confirmation: add --yes\n');

    const deleted = await cli(['projects', 'delete', 'Help desk', '--yes']);
    expect(deleted).toMatchObject({ code: 0, stdout: 'Deleted project "Help desk"\n' });
    expect((await cli(['projects', 'list'])).stdout).toMatch(/^No projects yet/);
  });

  it('reports errors with a message and an exit code', async () => {
    const [empty, missing] = await Promise.all([cli(['projects', 'create', '  ']), cli(['projects', 'show', 'nothing-here'])]);
    expect(empty).toMatchObject({ code: 2, stderr: 'error: invalid input for projects.create: name: a project needs a name\n' });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no project with id or name "nothing-here"/);
    await cli(['projects', 'create', 'Twice']);
    const dup = await cli(['projects', 'create', 'twice']);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toMatch(/already exists/);
  });

  it('--data-dir wins over LORA_STUDIO_HOME', async () => {
    const other = mkdtempSync(join(tmpdir(), 'lora-cli-other-'));
    try {
      await cli(['--data-dir', other, 'projects', 'create', 'Elsewhere']);
      const here = JSON.parse((await cli(['projects', 'list', '--json'])).stdout) as { name: string }[];
      const there = JSON.parse((await cli(['projects', 'list', '--json', '--data-dir', other])).stdout) as { name: string }[];
      expect(here.map((p) => p.name)).not.toContain('Elsewhere');
      expect(there.map((p) => p.name)).toEqual(['Elsewhere']);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});

describe('lora-studio doctor, jobs, help', () => {
  it('doctor prints the machine report', async () => {
    const [text, json] = await Promise.all([cli(['doctor']), cli(['doctor', '--json'])]);
    expect(text.code).toBe(0);
    for (const label of ['Node', 'Platform', 'CPU threads', 'onnxruntime-node', 'CUDA', 'Executor (auto)', 'Data dir']) expect(text.stdout).toContain(label);
    // which executor `train --device auto` picks follows the CUDA line
    expect(text.stdout).toMatch(/Executor \(auto\)\s+(cpu \(no usable NVIDIA GPU\)|cuda when the native addon is built)/);
    expect(text.stdout).toContain(dataDir);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ node: process.versions.node, dataDir, onnxruntime: { available: true } });
  });

  it('jobs list shows stored jobs', async () => {
    const none = await cli(['jobs', 'list', '--json']);
    expect(JSON.parse(none.stdout)).toEqual([]);
  });

  it('--help works as a command line', async () => {
    const help = await cli(['projects', 'create', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: lora-studio projects create \[options\] <name>/);
    expect(help.stdout).toMatch(/--data-dir <dir>/); // global options are shown too
  });
});

describe('lora-studio serve', () => {
  it('prints exactly one line with the URL and token, and serves the API with it', async () => {
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--renderer-dir', join(dataDir, 'no-ui')], {
      env: { ...process.env, LORA_STUDIO_HOME: dataDir, LORA_STUDIO_TOKEN: 'cli-test-token-0123456789' },
    });
    try {
      let stdout = '';
      let stderr = '';
      child.stderr.on('data', (c) => (stderr += c));
      const line = await new Promise<string>((resolvePromise, reject) => {
        child.stdout.on('data', (c) => {
          stdout += c;
          if (stdout.includes('\n')) resolvePromise(stdout);
        });
        child.on('exit', (code) => reject(new Error(`serve exited (${code}): ${stderr}`)));
      });
      const m = /^LoRA Studio is running at (http:\/\/127\.0\.0\.1:(\d+)\/\?token=cli-test-token-0123456789)\n$/.exec(line);
      expect(m, line).not.toBeNull();
      expect(stderr).toMatch(/npm run build:renderer/);
      const port = Number(m![2]);
      const refused = await fetch(`http://127.0.0.1:${port}/api/invoke`, { method: 'POST', body: JSON.stringify({ method: 'projects.list', input: {} }) });
      expect(refused.status).toBe(401);
      const ok = await fetch(`http://127.0.0.1:${port}/api/invoke`, {
        method: 'POST',
        headers: { Authorization: 'Bearer cli-test-token-0123456789' },
        body: JSON.stringify({ method: 'projects.list', input: {} }),
      });
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as { ok: boolean }).ok).toBe(true);
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stdout.split('\n').filter(Boolean)).toHaveLength(1);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
