// Links into the Chat page from elsewhere (an Evaluate example row, an adapter's row), kept apart from the page
// so a linking page does not load it. `#/chat/new/<adapter id or run id>/<prompt>` opens a fresh conversation
// with that adapter in the tuned pane and the prompt in the box; `#/chat/<session id>` reopens a saved one.
import { routeHref } from '../routes.ts';

export function chatHref(options: { adapterOrRunId?: string | null; prompt?: string } = {}): string {
  const params = ['new', options.adapterOrRunId || '-'];
  if (options.prompt) params.push(options.prompt);
  return routeHref('chat', ...params);
}

export type ChatRoute =
  | { kind: 'fresh'; adapterOrRunId: string | null; prompt: string }
  | { kind: 'session'; sessionId: string }
  | { kind: 'none' };

export function parseChatParams(params: readonly string[]): ChatRoute {
  if (params[0] === 'new')
    return {
      kind: 'fresh',
      adapterOrRunId: params[1] && params[1] !== '-' ? params[1] : null,
      prompt: params.slice(2).join('/'),
    };
  if (params[0]) return { kind: 'session', sessionId: params[0] };
  return { kind: 'none' };
}
