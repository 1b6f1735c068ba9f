// Chat sessions: the conversation lives in the store (chat_sessions / chat_messages); each user message starts a
// `generate` job answering every pane from one loaded base model. The job's streamed output becomes chat.delta
// events; each finished answer is saved as an assistant message (its pane and generation figures in meta) and
// announced with chat.done. A pane sees the shared messages (system, user) and its own answers only.
import {
  AnsweredWith, BaseQuant, ChatPane, GENERATE_JOB_KIND, GenerationBackend, GenerateJobOutput, GenerateJobResult, SamplingSettings, generateResidency,
  type ChatMessage, type ChatSession, type GenerateJobParams,
} from '../../../../common/api/chat.ts';
import { say } from '../../../../common/api/phrases.ts';
import { isFusionFolder } from '../../../formats/fusion/index.ts';
import { StudioError, notFound } from '../../errors.ts';
import type { ChatMessageRecord, ChatSessionRecord } from '../../store/repositories/chat.ts';
import type { CoreContext, HandlerGroup } from './types.ts';
import { z } from 'zod';

const StoredSettings = z.object({ model: z.string(), quant: BaseQuant, backend: GenerationBackend, panes: z.array(ChatPane), sampling: SamplingSettings });

function toSession(r: ChatSessionRecord): ChatSession {
  const s = StoredSettings.safeParse(r.settings);
  if (!s.success) throw new StudioError('internal', `chat ${r.id}: its stored settings no longer validate (${s.error.issues[0]?.message})`);
  return { id: r.id, projectId: r.projectId, title: r.title, ...s.data, createdAt: r.createdAt, updatedAt: r.updatedAt };
}

function toMessage(m: ChatMessageRecord): ChatMessage {
  const pane = typeof m.meta.pane === 'string' ? m.meta.pane : null;
  const answered = AnsweredWith.safeParse(m.meta.answeredWith);
  return {
    id: m.id, sessionId: m.sessionId, role: m.role, content: m.content, pane,
    answeredWith: answered.success ? answered.data : null, meta: m.meta, createdAt: m.createdAt,
  };
}

/** "Chat", then "Chat (2)", "Chat (3)"…: a title no other conversation of the project has. */
export function distinctTitle(wanted: string, taken: Iterable<string>): string {
  const used = new Set(taken);
  if (!used.has(wanted)) return wanted;
  for (let n = 2; ; n++) if (!used.has(`${wanted} (${n})`)) return `${wanted} (${n})`;
}

function getSession(id: string, ctx: CoreContext): ChatSessionRecord {
  const r = ctx.store.chat.getSession(id);
  if (!r) throw notFound('chat session', id);
  return r;
}

/** A pane's view of the conversation: shared messages plus its own answers, in order. */
export function paneHistory(messages: ChatMessage[], pane: string): { role: string; content: string }[] {
  return messages.filter((m) => m.pane === null || m.pane === pane).map((m) => ({ role: m.role, content: m.content }));
}

/**
 * An AdapterFusion folder (attention mode) answers alone, as trained, through the studio's engine: refused here, in
 * the user's language, before a job starts (the worker refuses the same for callers of the job itself).
 */
function checkFusionPanes(panes: readonly ChatPane[], backend: GenerationBackend): void {
  for (const p of panes) {
    const fusion = p.adapters.find((a) => isFusionFolder(a.path));
    if (!fusion) continue;
    if (p.adapters.length > 1 || fusion.weight !== 1 || p.ship)
      throw new StudioError('invalid_input', say('chat.fusionAlone', { path: fusion.path }), { field: 'panes' });
    if (backend === 'llama.cpp') throw new StudioError('invalid_input', say('chat.fusionLlamaCpp', { path: fusion.path }), { field: 'backend' });
  }
}

/** The generate job answering each session's latest message: one turn at a time per conversation. */
const answering = new Map<string, string>();
const RUNNING = new Set(['queued', 'running']);

export const chatHandlers: HandlerGroup<'chat'> = {
  'chat.create': ({ projectId, title, model, quant, backend, panes, sampling, system }, ctx) => {
    if (!ctx.store.projects.get(projectId)) throw notFound('project', projectId);
    checkFusionPanes(panes, backend);
    const taken = ctx.store.chat.listSessions(projectId).map((s) => s.title);
    const record = ctx.store.chat.createSession({ projectId, title: distinctTitle(title ?? 'Chat', taken), settings: { model, quant, backend, panes, sampling } });
    if (system) ctx.store.chat.addMessage({ sessionId: record.id, role: 'system', content: system });
    return toSession(getSession(record.id, ctx));
  },
  'chat.list': ({ projectId }, ctx) => {
    if (!ctx.store.projects.get(projectId)) throw notFound('project', projectId);
    return ctx.store.chat.listSessions(projectId).map(toSession);
  },
  'chat.get': ({ id }, ctx) => {
    const session = toSession(getSession(id, ctx));
    return { session, messages: ctx.store.chat.messages(id).map(toMessage) };
  },
  'chat.update': ({ id, sampling }, ctx) => {
    const current = toSession(getSession(id, ctx));
    const settings = { model: current.model, quant: current.quant, backend: current.backend, panes: current.panes, sampling: SamplingSettings.parse({ ...current.sampling, ...sampling }) };
    ctx.store.chat.updateSettings(id, settings);
    return toSession(getSession(id, ctx));
  },
  'chat.send': ({ sessionId, content, sampling, panes }, ctx) => {
    const record = getSession(sessionId, ctx);
    const current = toSession(record);
    const pending = answering.get(sessionId);
    const pendingJob = pending ? ctx.store.jobs.get(pending) : null;
    if (pendingJob && RUNNING.has(pendingJob.status))
      throw new StudioError('conflict', `chat "${current.title}" is still answering the previous message (job ${pendingJob.id}); wait for it or cancel that job`);
    const settings = { model: current.model, quant: current.quant, backend: current.backend, panes: panes ?? current.panes, sampling: SamplingSettings.parse({ ...current.sampling, ...sampling }) };
    checkFusionPanes(settings.panes, settings.backend);
    const message = toMessage(ctx.store.chat.addMessage({ sessionId, role: 'user', content }));
    ctx.store.chat.updateSettings(sessionId, settings);
    const history = ctx.store.chat.messages(sessionId).map(toMessage);
    const params: GenerateJobParams = {
      model: settings.model,
      quant: settings.quant,
      backend: settings.backend,
      baseGguf: 'f16',
      sampling: settings.sampling,
      panes: settings.panes.map((p) => ({ id: p.id, adapters: p.adapters, ...(p.ship ? { ship: p.ship } : {}), messages: paneHistory(history, p.id) })),
    };
    const saved = new Set<string>();
    const answeredWith = (pane: string): AnsweredWith => ({
      model: settings.model,
      adapters: settings.panes.find((p) => p.id === pane)?.adapters ?? [],
    });
    const job = ctx.jobs.start(GENERATE_JOB_KIND, params, {
      projectId: record.projectId,
      resident: generateResidency(params),
      hooks: {
        onOutput: (j, data) => {
          const out = GenerateJobOutput.safeParse(data);
          if (!out.success) return;
          if (out.data.type === 'delta') {
            ctx.events.publish('chat.delta', { sessionId, jobId: j.id, pane: out.data.pane, delta: out.data.delta });
            return;
          }
          const a = out.data.answer;
          saved.add(a.pane);
          const stored = ctx.store.chat.addMessage({
            sessionId, role: 'assistant', content: a.text,
            meta: { pane: a.pane, answeredWith: answeredWith(a.pane), jobId: j.id, finishReason: a.finishReason, tokens: a.tokens, promptTokens: a.promptTokens, decodeTokensPerSecond: a.decodeTokensPerSecond, adapters: a.adapters, sampling: settings.sampling, ...(a.backend ? { backend: a.backend } : {}) },
          });
          ctx.events.publish('chat.done', { sessionId, jobId: j.id, pane: a.pane, message: toMessage(stored), finishReason: a.finishReason, error: null });
        },
        onEnd: (ended) => {
          if (answering.get(sessionId) === ended.id) answering.delete(sessionId);
          // panes whose answer never arrived (the job failed or was cancelled first) still get their chat.done
          const result = GenerateJobResult.safeParse(ended.result);
          for (const p of settings.panes) {
            if (saved.has(p.id)) continue;
            const answered = result.success ? result.data.answers.find((a) => a.pane === p.id) : undefined;
            if (answered) continue;
            ctx.events.publish('chat.done', {
              sessionId, jobId: ended.id, pane: p.id, message: null,
              finishReason: ended.status === 'cancelled' ? 'cancelled' : 'failed', error: ended.error ?? ended.status,
            });
          }
        },
      },
    });
    answering.set(sessionId, job.id);
    return { message, jobId: job.id };
  },
};
