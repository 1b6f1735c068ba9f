// Pure helpers of the Chat and Compare runs pages: the Chat links other pages build, and the overlay of several
// runs' metrics into one chart series per run.
import { describe, expect, it } from 'vitest';
import { chatHref, parseChatParams } from '../../src/renderer/src/pages/ChatLinks.ts';
import { overlayPoints } from '../../src/renderer/src/pages/CompareData.ts';
import { parseLocation } from '../../src/renderer/src/routes.ts';

describe('Chat links', () => {
  it('round-trip an adapter or run and a prompt with slashes and newlines through the address', () => {
    const href = chatHref({ adapterOrRunId: 'run-1', prompt: 'Q: 1/2 of 8?\nA:' });
    const { route, params } = parseLocation(href);
    expect(route).toBe('chat');
    expect(parseChatParams(params)).toEqual({ kind: 'fresh', adapterOrRunId: 'run-1', prompt: 'Q: 1/2 of 8?\nA:' });
    expect(parseChatParams(parseLocation(chatHref()).params)).toEqual({
      kind: 'fresh',
      adapterOrRunId: null,
      prompt: '',
    });
    expect(parseChatParams(['abc'])).toEqual({ kind: 'session', sessionId: 'abc' });
    expect(parseChatParams([])).toEqual({ kind: 'none' });
  });
});

describe('overlayPoints', () => {
  it('puts each run’s value at its steps under its own key, leaving gaps where a run logged nothing', () => {
    const metric = (step: number, values: Record<string, number>) => ({ runId: 'x', step, values, at: '' });
    const a = [metric(1, { loss: 3 }), metric(2, { loss: 2.5 }), metric(2, { eval_loss: 2.8 })];
    const b = [metric(2, { loss: 4 }), metric(3, { loss: 3.5 })];
    expect(overlayPoints([a, b], 'loss', 'train')).toEqual([
      { step: 1, train0: 3 },
      { step: 2, train0: 2.5, train1: 4 },
      { step: 3, train1: 3.5 },
    ]);
    expect(overlayPoints([a, b], 'eval_loss', 'eval')).toEqual([{ step: 2, eval0: 2.8 }]);
  });
});
