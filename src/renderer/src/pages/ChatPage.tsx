// Chat: the base model and the base + an adapter answer the same prompt side by side, streaming token by token
// (chat.delta) until each answer is saved (chat.done). Sampling settings and the adapter's scale apply per turn;
// conversations are saved in the project and listed to reopen. Routes: #/chat, #/chat/<session id>,
// #/chat/new/<adapter or run id>/<prompt> (see ChatLinks.ts).
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { Adapter } from '../../../common/api/adapters.ts';
import type { AnsweredWith, ChatMessage, ChatPane, SamplingSettings, ShipQuant } from '../../../common/api/chat.ts';
import type { Project } from '../../../common/api/projects.ts';
import { toStudioApiError } from '../api/client.ts';
import { useEvent, useQuery } from '../api/hooks.ts';
import { Banner, Button, Card, EmptyState, PageHeader, Spinner } from '../components/index.ts';
import { basename, formatDateTime } from '../format.ts';
import { routeHref } from '../routes.ts';
import { useLocation } from '../state/location.ts';
import { ShipQuantSelect } from './ShipQuantSelect.tsx';
import { useStudio } from '../state/studio.tsx';
import { parseChatParams } from './ChatLinks.ts';
import { fusionAt, useFusionChoices, type FusionChoice } from './ChatFusions.ts';
import { ProjectGate } from './ProjectGate.tsx';
import { t } from '../i18n/t.ts';
import './Chat.css';

const will = () => [t('chat.will1'), t('chat.will2'), t('chat.will3')];

/** The model and adapters (with scales) an answer was written with: "sums r4 × 2.00 on tiny-llama"; a learned
 *  combination (answering alone, at no scale) by its name and the adapters its attention weighs. */
export function answeredWithLabel(w: AnsweredWith, fusions: FusionChoice[] = []): string {
  const model = basename(w.model);
  if (w.adapters.length === 0) return t('chat.answeredWithBase', { model });
  const fused = w.adapters.length === 1 ? fusionAt(fusions, w.adapters[0].path) : undefined;
  if (fused)
    return t('chat.answeredWithFusion', {
      name: w.adapters[0].name ?? fused.name,
      adapters: fused.adapterNames.join(' + '),
      model,
    });
  const adapters = w.adapters.map((a) => `${a.name ?? basename(a.path)} × ${a.weight.toFixed(2)}`).join(' + ');
  return t('chat.answeredWithAdapter', { adapters, model });
}

/** Two folder paths naming the same place, whatever trailing separators they carry. */
const samePath = (a: string, b: string) => a.replace(/[\\/]+$/, '') === b.replace(/[\\/]+$/, '');

type Sampling = Pick<SamplingSettings, 'temperature' | 'topP' | 'topK' | 'maxNewTokens'>;
const DEFAULT_SAMPLING: Sampling = { temperature: 0.7, topP: 0.9, topK: 50, maxNewTokens: 128 };

export function ChatPage() {
  return (
    <>
      <PageHeader
        title={t('nav.chat')}
        description={t('chat.description')}
        actions={
          <a className="btn btn-secondary" href={routeHref('chat')}>
            {t('chat.newConversation')}
          </a>
        }
      />
      <ProjectGate pageTitle={t('nav.chat')} icon="chat" will={will()}>
        {(project) => <ChatWorkspace key={project.id} project={project} />}
      </ProjectGate>
    </>
  );
}

/** The models a conversation can use: those opened or pulled, and those the project's runs trained on. */
function useModelChoices(projectId: string, adapters: Adapter[]): { paths: string[]; ready: boolean } {
  const models = useQuery('models.list', {});
  const runs = useQuery('runs.list', { projectId });
  const paths = new Set<string>();
  for (const a of adapters) if (a.baseModel) paths.add(a.baseModel);
  if (runs.state.status === 'ready') for (const r of runs.state.data) paths.add(r.config.model);
  if (models.state.status === 'ready') for (const m of models.state.data) paths.add(m.path);
  return { paths: [...paths], ready: models.state.status !== 'loading' && runs.state.status !== 'loading' };
}

function ChatWorkspace({ project }: { project: Project }) {
  const client = useStudio();
  const route = parseChatParams(useLocation().params);
  const adaptersQuery = useQuery('adapters.list', { projectId: project.id });
  const adapters =
    adaptersQuery.state.status === 'ready' ? adaptersQuery.state.data.filter((a) => a.problem === null) : [];
  const { paths: modelChoices, ready: choicesReady } = useModelChoices(project.id, adapters);
  const sessions = useQuery('chat.list', { projectId: project.id });
  const { fusions, ready: fusionsReady } = useFusionChoices(project.id, adapters);

  const [adapterId, setAdapterId] = useState<string>('');
  const [model, setModel] = useState<string>('');
  const [scale, setScale] = useState(1);
  // "What you will ship": a pane answered by the exported GGUF at this quantization (adapter merged), via llama.cpp
  const [ship, setShip] = useState<ShipQuant | ''>('');
  const [sampling, setSampling] = useState<Sampling>(DEFAULT_SAMPLING);
  const [draft, setDraft] = useState('');
  const [sessionId, setSessionId] = useState<string | null>(null);
  const [sessionModel, setSessionModel] = useState<string | null>(null);
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [streaming, setStreaming] = useState<Record<string, string>>({});
  const [answering, setAnswering] = useState<string[]>([]);
  const [paneErrors, setPaneErrors] = useState<Record<string, string>>({});
  // Every pane this conversation has been answered in (stored with it, and each send's): a pane whose adapter or
  // combination is gone from the project, or is no longer chosen, keeps its answers in view, read-only.
  const [seenPanes, setSeenPanes] = useState<ChatPane[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [loadingSession, setLoadingSession] = useState(false);
  const [jobId, setJobId] = useState<string | null>(null);
  const sessionRef = useRef<string | null>(null);
  const applied = useRef<string>('');

  const adapter = adapters.find((a) => a.id === adapterId) ?? null;
  // an AdapterFusion run's fusion folder: it answers alone, at scale 1, on the studio's engine (never shipped)
  const fusion = fusions.find((f) => f.id === adapterId) ?? null;

  // Follow the address: a saved conversation to reopen, or a fresh one with an adapter and prompt filled in.
  const routeKey = JSON.stringify(route);
  useEffect(() => {
    if (adaptersQuery.state.status !== 'ready' || !fusionsReady || applied.current === routeKey) return;
    if (route.kind === 'session') {
      if (route.sessionId === sessionRef.current) {
        applied.current = routeKey;
        return;
      }
      applied.current = routeKey;
      setLoadingSession(true);
      client.invoke('chat.get', { id: route.sessionId }).then(
        ({ session, messages: stored }) => {
          sessionRef.current = session.id;
          setSessionId(session.id);
          setSessionModel(session.model);
          setModel(session.model);
          setMessages(stored);
          setStreaming({});
          setAnswering([]);
          setPaneErrors({});
          setSeenPanes(session.panes);
          const { temperature, topP, topK, maxNewTokens } = session.sampling;
          setSampling({ temperature, topP, topK, maxNewTokens });
          savedSampling.current = JSON.stringify({ temperature, topP, topK, maxNewTokens });
          const tuned = session.panes.find((p) => p.adapters.length > 0)?.adapters[0];
          const known = tuned
            ? adaptersQuery.state.status === 'ready' && adaptersQuery.state.data.find((a) => a.path === tuned.path)
            : undefined;
          const fused = tuned ? fusions.find((f) => samePath(f.path, tuned.path)) : undefined;
          setAdapterId(known ? known.id : (fused?.id ?? ''));
          setScale(tuned?.weight ?? 1);
          setShip(session.panes.find((p) => p.ship)?.ship ?? '');
          setLoadingSession(false);
        },
        (err: unknown) => {
          setError(toStudioApiError(err).message);
          setLoadingSession(false);
        },
      );
      return;
    }
    applied.current = routeKey;
    sessionRef.current = null;
    setSessionId(null);
    setSessionModel(null);
    setMessages([]);
    setStreaming({});
    setAnswering([]);
    setPaneErrors({});
    setSeenPanes([]);
    setError(null);
    const wanted =
      route.kind === 'fresh' && route.adapterOrRunId
        ? adapters.find((a) => a.id === route.adapterOrRunId || a.runId === route.adapterOrRunId)
        : adapters[0];
    const wantedFusion =
      route.kind === 'fresh' && route.adapterOrRunId && !wanted
        ? fusions.find((f) => f.runId === route.adapterOrRunId)
        : undefined;
    setAdapterId(wanted?.id ?? wantedFusion?.id ?? '');
    if (wanted?.baseModel ?? wantedFusion?.baseModel) setModel((wanted?.baseModel ?? wantedFusion?.baseModel)!);
    if (route.kind === 'fresh' && route.prompt) setDraft(route.prompt);
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the route (by its key) and the loaded adapters decide
  }, [routeKey, adaptersQuery.state.status, fusionsReady]);

  // A model to start from once the choices are known.
  useEffect(() => {
    if (!model && modelChoices.length > 0) setModel(adapter?.baseModel ?? fusion?.baseModel ?? modelChoices[0]);
  }, [model, modelChoices, adapter, fusion]);

  useEvent('chat.delta', (event) => {
    if (event.sessionId !== sessionRef.current) return;
    setStreaming((current) => ({ ...current, [event.pane]: (current[event.pane] ?? '') + event.delta }));
  });
  useEvent('chat.done', (event) => {
    if (event.sessionId !== sessionRef.current) return;
    const stored = event.message;
    if (stored) setMessages((current) => (current.some((m) => m.id === stored.id) ? current : [...current, stored]));
    if (event.error !== null) {
      const error = event.error;
      setPaneErrors((current) => ({
        ...current,
        // a job that failed without a reason sends its status word ("failed"): say it in the UI's language
        [event.pane]:
          event.finishReason === 'cancelled'
            ? t('chat.stopped')
            : error === '' || error === 'failed'
              ? t('chat.paneFailedNoReason')
              : t('chat.paneFailed', { error }),
      }));
    }
    setStreaming((current) => {
      const next = { ...current };
      delete next[event.pane];
      return next;
    });
    setAnswering((current) => current.filter((pane) => pane !== event.pane));
  });

  const panes: ChatPane[] = [
    { id: 'base', label: t('chat.paneBase'), adapters: [] },
    ...(adapter
      ? [
          {
            id: 'tuned',
            label: t('chat.paneTuned'),
            adapters: [{ path: adapter.path, weight: scale, name: adapter.name }],
          },
        ]
      : []),
    ...(fusion
      ? [{ id: 'tuned', label: t('chat.paneFused'), adapters: [{ path: fusion.path, weight: 1, name: fusion.name }] }]
      : []),
    ...(ship && !fusion
      ? [
          {
            id: 'shipped',
            label: t('chat.shipPane', { quant: ship.toUpperCase() }),
            adapters: adapter ? [{ path: adapter.path, weight: scale, name: adapter.name }] : [],
            ship,
          },
        ]
      : []),
  ];
  const busy = answering.length > 0;
  const livePanes = new Set(panes.map((p) => p.id));
  const gonePanes = seenPanes.filter(
    (p) => !livePanes.has(p.id) && messages.some((m) => m.role === 'assistant' && m.pane === p.id),
  );
  const inProject = (path: string) =>
    adapters.some((a) => samePath(a.path, path)) || fusions.some((f) => samePath(f.path, path));
  const paneCount = panes.length + gonePanes.length;

  // An adapter only makes sense on the base it was trained on: say so when another base is chosen.
  const mismatch =
    adapter && adapter.baseModel && model && !samePath(adapter.baseModel, model)
      ? { adapter: adapter.name, trained: adapter.baseModel }
      : null;

  // Sampling belongs to the conversation: a change is saved to it (debounced) without waiting for the next message.
  const savedSampling = useRef<string>('');
  useEffect(() => {
    const key = JSON.stringify(sampling);
    if (!sessionId || loadingSession) return;
    if (savedSampling.current === '') {
      savedSampling.current = key;
      return;
    }
    if (savedSampling.current === key) return;
    const timer = setTimeout(() => {
      savedSampling.current = key;
      client
        .invoke('chat.update', { id: sessionId, sampling })
        .catch((err: unknown) => setError(toStudioApiError(err).message));
    }, 400);
    return () => clearTimeout(timer);
  }, [client, sampling, sessionId, loadingSession]);

  async function send(event?: FormEvent) {
    event?.preventDefault();
    const content = draft.trim();
    if (!content || busy) return;
    if (!model) {
      setError(t('chat.chooseModelFirst'));
      return;
    }
    setError(null);
    setPaneErrors({});
    try {
      let id = sessionRef.current;
      if (!id || sessionModel !== model) {
        // A conversation keeps its base model; another model starts a new one.
        const created = await client.invoke('chat.create', {
          projectId: project.id,
          model,
          title: content.slice(0, 60),
          panes,
          sampling,
        });
        id = created.id;
        sessionRef.current = id;
        applied.current = JSON.stringify({ kind: 'session', sessionId: id });
        savedSampling.current = JSON.stringify(sampling);
        setSessionId(id);
        setSessionModel(model);
        setMessages([]);
        window.location.hash = routeHref('chat', id);
        sessions.reload();
      }
      setAnswering(panes.map((p) => p.id));
      setStreaming({});
      const sent = await client.invoke('chat.send', { sessionId: id, content, sampling, panes });
      setSeenPanes((current) => [...current.filter((p) => !panes.some((q) => q.id === p.id)), ...panes]);
      setJobId(sent.jobId);
      setMessages((current) => [...current, sent.message]);
      setDraft('');
    } catch (err) {
      setAnswering([]);
      setError(toStudioApiError(err).message);
    }
  }

  function onComposerKey(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      void send();
    }
  }

  if (adaptersQuery.state.status === 'loading' || !choicesReady) return <Spinner label={t('chat.loadingChoices')} />;
  if (modelChoices.length === 0 && !model) {
    return (
      <Card>
        <EmptyState
          icon="chat"
          title={t('chat.noModel')}
          points={will()}
          actions={
            <a className="btn btn-primary" href={routeHref('new')}>
              {t('nav.new')}
            </a>
          }
        >
          {t('chat.noModelBody')}
        </EmptyState>
      </Card>
    );
  }

  return (
    <div className="chat-frame">
      <div className="chat-layout">
        <div className="chat-main">
          {error ? <Banner title={t('chat.notSent')}>{error}</Banner> : null}
          {mismatch ? (
            <Banner
              tone="info"
              title={t('chat.baseMismatchTitle')}
              actions={
                <Button size="sm" onClick={() => setModel(mismatch.trained)}>
                  {t('chat.useTrainedBase')}
                </Button>
              }
            >
              {t('chat.baseMismatch', {
                adapter: mismatch.adapter,
                trained: basename(mismatch.trained),
                chosen: basename(model),
              })}
            </Banner>
          ) : null}
          {loadingSession ? <Spinner label={t('chat.opening')} /> : null}
          <div className={paneCount > 1 ? `chat-panes chat-panes-${paneCount}` : 'chat-panes'}>
            {panes.map((pane) => (
              <ChatPaneView
                key={pane.id}
                pane={pane}
                subtitle={
                  pane.ship
                    ? `${pane.adapters[0] ? `${pane.adapters[0].name} × ${scale.toFixed(2)} · ` : ''}GGUF ${pane.ship.toUpperCase()} · llama.cpp`
                    : fusion && pane.id === 'tuned'
                      ? t('chat.fusionSubtitle', { name: fusion.name, adapters: fusion.adapterNames.join(' + ') })
                      : pane.adapters[0]
                        ? `${pane.adapters[0].name} × ${scale.toFixed(2)}`
                        : basename(model || t('chat.noModelChosen'))
                }
                fusions={fusions}
                messages={messages.filter((m) => m.role !== 'system' && (m.pane === null || m.pane === pane.id))}
                streaming={streaming[pane.id]}
                answering={answering.includes(pane.id)}
                error={paneErrors[pane.id] ?? null}
              />
            ))}
            {gonePanes.map((pane) => (
              <ChatPaneView
                key={`gone-${pane.id}`}
                pane={pane}
                subtitle={gonePane(pane, inProject).subtitle}
                note={gonePane(pane, inProject).note}
                fusions={fusions}
                messages={messages.filter((m) => m.role !== 'system' && (m.pane === null || m.pane === pane.id))}
                streaming={undefined}
                answering={false}
                error={null}
              />
            ))}
          </div>
          <form className="chat-composer" onSubmit={(event) => void send(event)}>
            <label htmlFor="chat-prompt" className="visually-hidden">
              {panes.length > 2
                ? t('chat.messageLabelAll', { count: panes.length })
                : panes.length === 2
                  ? t('chat.messageLabel')
                  : t('chat.messageLabelBase')}
            </label>
            <div className="chat-input-field">
              <textarea
                id="chat-prompt"
                className="textarea chat-input"
                placeholder={
                  panes.length > 2
                    ? t('chat.placeholderAll', { count: panes.length })
                    : panes.length === 2
                      ? t('chat.placeholderBoth')
                      : t('chat.placeholderBase')
                }
                aria-describedby="chat-prompt-keys"
                value={draft}
                rows={2}
                onChange={(event) => setDraft(event.target.value)}
                onKeyDown={onComposerKey}
              />
              <span id="chat-prompt-keys" className="field-hint">
                {t('chat.keysHint')}
              </span>
            </div>
            <div className="chat-composer-actions">
              {busy && jobId ? (
                <Button
                  variant="danger"
                  onClick={() =>
                    void client
                      .invoke('jobs.cancel', { id: jobId })
                      .catch((err: unknown) => setError(toStudioApiError(err).message))
                  }
                >
                  {t('chat.stop')}
                </Button>
              ) : (
                <Button type="submit" variant="primary" disabled={!draft.trim() || !model}>
                  {panes.length > 2 ? t('chat.sendAll', { count: panes.length }) : panes.length > 1 ? t('chat.sendBoth') : t('chat.send')}
                </Button>
              )}
            </div>
          </form>
        </div>
        <aside className="chat-side" aria-label={t('chat.sideLabel')}>
          <Card title={t('chat.models')}>
            <div className="form-grid">
              <div className="field">
                <label className="field-label" htmlFor="chat-model">
                  {t('chat.baseModel')}
                </label>
                <select id="chat-model" value={model} onChange={(event) => setModel(event.target.value)}>
                  {model && !modelChoices.includes(model) ? <option value={model}>{basename(model)}</option> : null}
                  {modelChoices.length === 0 ? <option value="">{t('chat.noModelsYet')}</option> : null}
                  {modelChoices.map((path) => (
                    <option key={path} value={path} title={path}>
                      {basename(path)}
                    </option>
                  ))}
                </select>
              </div>
              <div className="field">
                <label className="field-label" htmlFor="chat-adapter">
                  {t('chat.adapter')}
                </label>
                <select
                  id="chat-adapter"
                  value={adapterId}
                  onChange={(event) => {
                    setAdapterId(event.target.value);
                    const picked = adapters.find((a) => a.id === event.target.value);
                    const pickedFusion = fusions.find((f) => f.id === event.target.value);
                    if (picked?.baseModel ?? pickedFusion?.baseModel)
                      setModel((picked?.baseModel ?? pickedFusion?.baseModel)!);
                    if (pickedFusion) setShip('');
                  }}
                >
                  <option value="">{t('chat.adapterNone')}</option>
                  {adapters.map((a) => (
                    <option key={a.id} value={a.id}>
                      {t('chat.adapterOption', { name: a.name, r: a.r })}
                    </option>
                  ))}
                  {fusions.length > 0 ? (
                    <optgroup label={t('chat.fusionGroup')}>
                      {fusions.map((f) => (
                        <option key={f.id} value={f.id}>
                          {t('chat.fusionOption', { name: f.name, count: f.adapters })}
                        </option>
                      ))}
                    </optgroup>
                  ) : null}
                </select>
                <span className="field-hint">
                  {fusion
                    ? t('chat.fusionHint')
                    : adapters.length === 0 && fusions.length === 0
                      ? t('chat.adapterHintEmpty')
                      : t('chat.adapterHint')}
                </span>
              </div>
              {/* a combination answers as trained: no scale to set (its hint says so) */}
              {fusion ? null : (
                <Slider
                  id="chat-scale"
                  label={t('chat.scale')}
                  hint={t('chat.scaleHint')}
                  min={0}
                  max={2}
                  step={0.05}
                  value={scale}
                  disabled={!adapter}
                  onChange={setScale}
                  format={(v) => v.toFixed(2)}
                />
              )}
              {fusion ? null : (
                <ShipQuantSelect
                  id="chat-ship"
                  label={t('chat.addShipPane')}
                  value={ship}
                  onChange={setShip}
                  optionLabel={(quant) => t('chat.shipPane', { quant })}
                />
              )}
            </div>
          </Card>
          <Card>
            <details className="chat-sampling">
              <summary data-closed={t('chat.samplingChange')} data-open={t('chat.samplingHide')}>
                <span className="chat-sampling-title">{t('chat.sampling')}</span>
                <span className="chat-sampling-summary">{t('chat.samplingSummary', sampling)}</span>
              </summary>
              <div className="form-grid chat-sampling-body">
                <Slider
                  id="chat-temperature"
                  label={t('chat.temperature')}
                  hint={t('chat.temperatureHint')}
                  min={0}
                  max={2}
                  step={0.05}
                  value={sampling.temperature}
                  onChange={(temperature) => setSampling((s) => ({ ...s, temperature }))}
                  format={(v) => v.toFixed(2)}
                />
                <Slider
                  id="chat-top-p"
                  label={t('chat.topP')}
                  hint={t('chat.topPHint')}
                  min={0.05}
                  max={1}
                  step={0.05}
                  value={sampling.topP}
                  onChange={(topP) => setSampling((s) => ({ ...s, topP }))}
                  format={(v) => v.toFixed(2)}
                />
                <Slider
                  id="chat-top-k"
                  label={t('chat.topK')}
                  hint={t('chat.topKHint')}
                  min={0}
                  max={200}
                  step={1}
                  value={sampling.topK}
                  onChange={(topK) => setSampling((s) => ({ ...s, topK }))}
                  format={(v) => String(v)}
                />
                <Slider
                  id="chat-max-tokens"
                  label={t('chat.maxTokens')}
                  hint={t('chat.maxTokensHint')}
                  min={8}
                  max={1024}
                  step={8}
                  value={sampling.maxNewTokens}
                  onChange={(maxNewTokens) => setSampling((s) => ({ ...s, maxNewTokens }))}
                  format={(v) => String(v)}
                />
                {sessionId ? <span className="field-hint">{t('chat.samplingKept')}</span> : null}
              </div>
            </details>
          </Card>
          <Card title={t('chat.conversations')} flush>
            {sessions.state.status === 'ready' ? (
              sessions.state.data.length === 0 ? (
                <p className="chat-history-empty">{t('chat.savedHere')}</p>
              ) : (
                <ul className="chat-history" aria-label={t('chat.savedList')}>
                  {sessions.state.data.map((s) => (
                    <li key={s.id}>
                      <a href={routeHref('chat', s.id)} aria-current={s.id === sessionId ? 'page' : undefined}>
                        <span className="chat-history-title">{s.title}</span>
                        <span className="chat-history-meta">{formatDateTime(s.updatedAt)}</span>
                      </a>
                    </li>
                  ))}
                </ul>
              )
            ) : sessions.state.status === 'error' ? (
              <p className="chat-history-empty">{sessions.state.error.message}</p>
            ) : (
              <Spinner label={t('chat.loadingConversations')} />
            )}
          </Card>
        </aside>
      </div>
    </div>
  );
}

/**
 * What a pane no longer answered in showed, and why it stands apart: its adapters (or its shipped GGUF) are deleted
 * from the project, or only not chosen now. Its answers stay: deleting an adapter does not delete a conversation.
 */
function gonePane(pane: ChatPane, inProject: (path: string) => boolean): { subtitle: string; note: string } {
  const adapters = pane.adapters.map((a) => `${a.name ?? basename(a.path)} × ${a.weight.toFixed(2)}`).join(' + ');
  const what = pane.ship ? [adapters, `GGUF ${pane.ship.toUpperCase()}`].filter(Boolean).join(' · ') : adapters;
  return pane.adapters.some((a) => !inProject(a.path))
    ? { subtitle: t('chat.paneDeleted', { what }), note: t('chat.paneDeletedNote') }
    : { subtitle: t('chat.paneNotChosen', { what }), note: t('chat.paneNotChosenNote') };
}

function ChatPaneView({
  pane,
  subtitle,
  fusions,
  messages,
  streaming,
  answering,
  error,
  note,
}: {
  pane: ChatPane;
  subtitle: string;
  /** Why a pane no longer answers (its adapter deleted, or not chosen now): said above its answers. */
  note?: string;
  fusions: FusionChoice[];
  messages: ChatMessage[];
  streaming: string | undefined;
  answering: boolean;
  error: string | null;
}) {
  const log = useRef<HTMLDivElement>(null);
  useEffect(() => {
    // Keep the newest text in view inside the pane (scrollIntoView would scroll the whole page too).
    if (log.current) log.current.scrollTop = log.current.scrollHeight;
  }, [messages.length, streaming]);
  return (
    <section className="chat-pane" aria-label={t('chat.paneAnswers', { pane: pane.label })}>
      <header className="chat-pane-header">
        <span className="chat-pane-title" title={pane.label}>
          {pane.label}
        </span>
        <span className="chat-pane-subtitle" title={subtitle}>
          {subtitle}
        </span>
      </header>
      {note ? <p className="chat-pane-note">{note}</p> : null}
      <div className="chat-log" aria-live="polite" ref={log}>
        {messages.length === 0 && !answering ? <p className="chat-placeholder">{t('chat.answersAppear')}</p> : null}
        {messages.map((m) => (
          <div key={m.id} className={`chat-message chat-${m.role}`}>
            <span className="visually-hidden">{m.role === 'user' ? t('chat.you') : `${pane.label}:`}</span>
            {m.content || <em className="muted">{t('chat.emptyAnswer')}</em>}
            {m.answeredWith ? (
              // Each answer keeps what it was written with; changing the adapter or scale later does not re-label it.
              <span className="chat-answered-with">{answeredWithLabel(m.answeredWith, fusions)}</span>
            ) : null}
          </div>
        ))}
        {answering ? (
          <div className="chat-message chat-assistant chat-streaming" data-testid={`streaming-${pane.id}`}>
            {streaming || <Spinner label={t('chat.thinking')} />}
          </div>
        ) : null}
        {error ? <div className="chat-pane-error">{error}</div> : null}
      </div>
    </section>
  );
}

function Slider({
  id,
  label,
  hint,
  min,
  max,
  step,
  value,
  onChange,
  format,
  disabled,
}: {
  id: string;
  label: string;
  hint: string;
  min: number;
  max: number;
  step: number;
  value: number;
  onChange: (value: number) => void;
  format: (value: number) => string;
  disabled?: boolean;
}) {
  return (
    <div className="field chat-slider">
      <div className="chat-slider-head">
        <label className="field-label" htmlFor={id}>
          {label}
        </label>
        <output htmlFor={id} className="chat-slider-value">
          {format(value)}
        </output>
      </div>
      <input
        id={id}
        type="range"
        min={min}
        max={max}
        step={step}
        value={value}
        disabled={disabled}
        onChange={(event) => onChange(Number(event.target.value))}
        aria-describedby={`${id}-hint`}
      />
      <span id={`${id}-hint`} className="field-hint">
        {hint}
      </span>
    </div>
  );
}
