// The chat service through the real core: a session with base and tuned panes, one user message answered by a
// `generate` job in a worker process, both answers streamed as chat.delta events, saved as messages and announced
// with chat.done; the next turn sends each pane its own history.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage, ChatSession } from '../../../src/common/api/chat.ts';
import type { EventPayload } from '../../../src/common/api/contract.ts';
import { createStudioCore, type StudioCore } from '../../../src/main/core/index.ts';
import { distinctTitle, paneHistory } from '../../../src/main/core/api/handlers/chat.ts';
import { makeChatFixture, type ChatFixture } from '../../engine/generate/fixtures.ts';

let dir: string;
let core: StudioCore;
let projectId: string;
let fx: ChatFixture;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lora-chat-'));
  core = createStudioCore({ dataDir: join(dir, 'data'), testJobs: false });
  projectId = ((await core.invoke('projects.create', { name: 'chat' })) as { id: string }).id;
  fx = await makeChatFixture(dir);
});
afterAll(async () => {
  await core.close();
  rmSync(dir, { recursive: true, force: true });
});

async function turn(sessionId: string, content: string, panes: string[], paneSettings?: unknown[]) {
  const deltas = new Map<string, string>();
  const done = new Map<string, EventPayload<'chat.done'>>();
  const offDelta = core.on('chat.delta', (e) => {
    if (e.sessionId === sessionId) deltas.set(e.pane, (deltas.get(e.pane) ?? '') + e.delta);
  });
  const finished = new Promise<void>((resolve) => {
    const off = core.on('chat.done', (e) => {
      if (e.sessionId !== sessionId) return;
      done.set(e.pane, e);
      if (done.size === panes.length) {
        off();
        resolve();
      }
    });
  });
  const sent = (await core.invoke('chat.send', { sessionId, content, sampling: { temperature: 0, maxNewTokens: 10 }, ...(paneSettings ? { panes: paneSettings } : {}) })) as { message: ChatMessage; jobId: string };
  await finished;
  offDelta();
  expect((await core.jobs.waitFor(sent.jobId)).status).toBe('succeeded');
  return { sent, deltas, done };
}

describe('chat service', () => {
  it('streams base and tuned answers side by side, saves them, and keeps each pane its own history', async () => {
    const session = (await core.invoke('chat.create', {
      projectId, model: fx.model.dir, title: 'side by side', system: 'Be brief.', sampling: { topK: 7 },
      panes: [{ id: 'base', label: 'Base', adapters: [] }, { id: 'tuned', label: 'Tuned', adapters: [{ path: fx.adapters[0], weight: 1 }] }],
    })) as ChatSession;
    expect(session.sampling.temperature).toBe(0.7); // defaults filled in

    const first = await turn(session.id, 'Hello there', ['base', 'tuned']);
    const [worker] = core.jobs.residents(); // the model stays loaded in a resident worker between turns
    expect(worker).toMatchObject({ busy: false });
    for (const pane of ['base', 'tuned']) {
      const d = first.done.get(pane)!;
      expect(d.error).toBeNull();
      expect(d.message!.content).toBe(first.deltas.get(pane) ?? '');
      expect(d.message!.pane).toBe(pane);
      expect(d.message!.meta).toMatchObject({ jobId: first.sent.jobId, finishReason: expect.stringMatching(/eos|length/) });
    }
    expect(first.done.get('base')!.message!.content).not.toBe(first.done.get('tuned')!.message!.content);

    // The second turn scales the adapter down: each answer keeps the model and scale it was written with.
    await turn(session.id, 'And again', ['base', 'tuned'], [
      { id: 'base', label: 'Base', adapters: [] },
      { id: 'tuned', label: 'Tuned', adapters: [{ path: fx.adapters[0], weight: 0.5 }] },
    ]);
    expect(core.jobs.residents()).toEqual([worker]); // the same process answered the second turn …
    const jobs = core.jobs.list({ projectId }).filter((j) => j.kind === 'generate');
    const logOf = (id: string) => readFileSync(core.jobs.logFile(id), 'utf8');
    expect(logOf(first.sent.jobId)).toMatch(new RegExp(`loaded .* in [0-9.]+ s \\(worker pid ${worker!.pid}\\)`));
    expect(logOf(jobs[0]!.id === first.sent.jobId ? jobs[1]!.id : jobs[0]!.id)).toMatch(`kept loaded from the previous turn (worker pid ${worker!.pid})`); // … without reloading
    const { session: stored, messages } = (await core.invoke('chat.get', { id: session.id })) as { session: ChatSession; messages: ChatMessage[] };
    expect(stored.sampling).toMatchObject({ temperature: 0, maxNewTokens: 10, topK: 7 }); // the turn's changes kept, the rest as it was
    expect(messages.map((m) => [m.role, m.pane])).toEqual([
      ['system', null], ['user', null], ['assistant', expect.any(String)], ['assistant', expect.any(String)],
      ['user', null], ['assistant', expect.any(String)], ['assistant', expect.any(String)],
    ]);
    const tunedAnswers = messages.filter((m) => m.pane === 'tuned');
    expect(tunedAnswers.map((m) => m.answeredWith)).toEqual([
      { model: fx.model.dir, adapters: [{ path: fx.adapters[0], weight: 1 }] },
      { model: fx.model.dir, adapters: [{ path: fx.adapters[0], weight: 0.5 }] },
    ]);
    expect(messages.find((m) => m.pane === 'base')!.answeredWith).toEqual({ model: fx.model.dir, adapters: [] });
    expect(messages.find((m) => m.role === 'user')!.answeredWith).toBeNull();
    const tunedView = paneHistory(messages, 'tuned');
    expect(tunedView.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user', 'assistant']);
    expect(tunedView[2].content).toBe(first.done.get('tuned')!.message!.content);
    expect(((await core.invoke('chat.list', { projectId })) as ChatSession[]).map((s) => s.id)).toContain(session.id);
  });

  it('keeps sampling changes with their conversation, and gives conversations distinct titles', async () => {
    const create = async (title?: string) =>
      (await core.invoke('chat.create', { projectId: titlesProject, model: fx.model.dir, ...(title ? { title } : {}) })) as ChatSession;
    const titlesProject = ((await core.invoke('projects.create', { name: 'titles' })) as { id: string }).id;
    const a = await create('What is LoRA?');
    const b = await create('What is LoRA?');
    const c = await create('What is LoRA?');
    const d = await create();
    const e = await create();
    expect([a, b, c, d, e].map((x) => x.title)).toEqual(['What is LoRA?', 'What is LoRA? (2)', 'What is LoRA? (3)', 'Chat', 'Chat (2)']);
    expect(distinctTitle('x', ['x', 'x (2)', 'x (4)'])).toBe('x (3)');

    const updated = (await core.invoke('chat.update', { id: a.id, sampling: { temperature: 1.3, topK: 9 } })) as ChatSession;
    expect(updated.sampling).toMatchObject({ temperature: 1.3, topK: 9, topP: 0.9 });
    const reopened = (await core.invoke('chat.get', { id: a.id })) as { session: ChatSession };
    expect(reopened.session.sampling).toMatchObject({ temperature: 1.3, topK: 9 });
    expect(((await core.invoke('chat.get', { id: b.id })) as { session: ChatSession }).session.sampling.temperature).toBe(0.7);
    await expect(core.invoke('chat.update', { id: a.id, sampling: { temperature: 99 } })).rejects.toMatchObject({ code: 'invalid_input' });
    await expect(core.invoke('chat.update', { id: a.id, sampling: { temprature: 1 } })).rejects.toMatchObject({ code: 'invalid_input' });
  });

  it('a model that cannot be opened ends every pane with a failed chat.done', async () => {
    const session = (await core.invoke('chat.create', { projectId, model: join(dir, 'missing-model') })) as ChatSession;
    const done = new Promise<EventPayload<'chat.done'>>((resolve) => {
      const off = core.on('chat.done', (e) => {
        if (e.sessionId === session.id) {
          off();
          resolve(e);
        }
      });
    });
    await core.invoke('chat.send', { sessionId: session.id, content: 'hi' });
    // one turn at a time: a second message while the first is being answered is refused
    await expect(core.invoke('chat.send', { sessionId: session.id, content: 'again' })).rejects.toMatchObject({ code: 'conflict' });
    const e = await done;
    expect(e).toMatchObject({ pane: 'base', message: null, finishReason: 'failed' });
    expect(e.error).toMatch(/missing-model/);
    await expect(core.invoke('chat.send', { sessionId: 'nope', content: 'hi' })).rejects.toMatchObject({ code: 'not_found' });
  });
});
