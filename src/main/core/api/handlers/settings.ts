// settings.*: threads and offline mode in the store; the Hub token through ctx.hubToken (keychain or 0600 file),
// never returned. Changes apply to jobs started afterwards (each worker reads them from its environment).
import { availableParallelism } from 'node:os';
import { StudioError } from '../../errors.ts';
import { describeSettings, writeSettings } from '../../settings.ts';
import type { HandlerGroup } from './types.ts';

export const settingsHandlers: HandlerGroup<'settings'> = {
  'settings.get': (_input, ctx) => describeSettings(ctx.store, ctx.hubToken),
  'settings.update': ({ threads, offline, modelKeepAliveMinutes }, ctx) => {
    const cpuThreads = availableParallelism();
    if (threads != null && threads > cpuThreads) {
      throw new StudioError(
        'invalid_input',
        `threads: this machine has ${cpuThreads} CPU threads; choose 1 to ${cpuThreads}`,
        { field: 'threads' },
      );
    }
    writeSettings(ctx.store, { threads, offline, modelKeepAliveMinutes });
    return describeSettings(ctx.store, ctx.hubToken);
  },
  'settings.setHubToken': ({ token }, ctx) => {
    try {
      ctx.hubToken.save(token);
    } catch (err) {
      throw new StudioError('failed', `could not store the Hugging Face token: ${(err as Error).message}`);
    }
    return describeSettings(ctx.store, ctx.hubToken);
  },
  'settings.clearHubToken': (_input, ctx) => {
    ctx.hubToken.clear();
    return describeSettings(ctx.store, ctx.hubToken);
  },
};
