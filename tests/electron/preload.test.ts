// The preload runs against a stand-in for Electron's contextBridge/ipcRenderer: what it exposes, what it
// refuses, and how core errors reach the renderer.
import { beforeAll, describe, expect, it, vi } from 'vitest';

const exposed: Record<string, unknown> = {};
const ipcListeners = new Map<string, (event: unknown, message: unknown) => void>();
const invoke = vi.fn();

vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, value: unknown) => (exposed[key] = value) },
  ipcRenderer: {
    sendSync: (channel: string) => (channel === 'studio:contract' ? { methods: ['projects.list', 'projects.create'], topics: ['job.status'] } : undefined),
    invoke: (...args: unknown[]) => invoke(...args),
    on: (channel: string, fn: (event: unknown, message: unknown) => void) => ipcListeners.set(channel, fn),
  },
}));

interface Bridge {
  invoke(method: string, input: unknown): Promise<unknown>;
  subscribe(topic: string, listener: (payload: unknown) => void): () => void;
}
let studio: Bridge;

beforeAll(async () => {
  await import('../../src/preload/index.ts');
  studio = exposed.studio as Bridge;
});

describe('preload: window.studio', () => {
  it('exposes exactly invoke and subscribe', () => {
    expect(Object.keys(exposed)).toEqual(['studio']);
    expect(Object.keys(studio).sort()).toEqual(['invoke', 'subscribe']);
  });

  it('forwards allowed methods and unwraps results', async () => {
    invoke.mockResolvedValueOnce({ ok: true, result: [{ id: 'p1' }] });
    await expect(studio.invoke('projects.list', {})).resolves.toEqual([{ id: 'p1' }]);
    expect(invoke).toHaveBeenCalledWith('studio:invoke', 'projects.list', {});
  });

  it('rejects with the core error shape (code, message, details)', async () => {
    invoke.mockResolvedValueOnce({ ok: false, error: { code: 'conflict', message: 'a project named "x" already exists' } });
    await expect(studio.invoke('projects.create', { name: 'x' })).rejects.toEqual({ code: 'conflict', message: 'a project named "x" already exists' });
  });

  it('refuses method names outside the contract without calling the main process', async () => {
    invoke.mockClear();
    await expect(studio.invoke('fs.readFile', { path: '/etc/passwd' })).rejects.toMatchObject({ code: 'unknown_method' });
    await expect(studio.invoke('__proto__', {})).rejects.toMatchObject({ code: 'unknown_method' });
    expect(invoke).not.toHaveBeenCalled();
  });

  it('delivers events by topic and unsubscribes', () => {
    const got: unknown[] = [];
    const off = studio.subscribe('job.status', (p) => got.push(p));
    expect(() => studio.subscribe('secret.topic', () => {})).toThrow(/unknown event topic/);
    const deliver = ipcListeners.get('studio:event')!;
    deliver({}, { topic: 'job.status', payload: { id: 'j1' } });
    deliver({}, { topic: 'job.log', payload: { line: 'not subscribed' } });
    off();
    deliver({}, { topic: 'job.status', payload: { id: 'j2' } });
    expect(got).toEqual([{ id: 'j1' }]);
  });
});
