// dialogs.pick and dialogs.reveal are answered by the Electron shell before a call reaches the core (see
// electron/main.ts); the core has no screen, so anywhere else the caller is told to type or open the path.
import { StudioError } from '../../errors.ts';
import type { HandlerGroup } from './types.ts';

export const dialogHandlers: HandlerGroup<'dialogs'> = {
  'dialogs.pick': ({ kind }) => {
    throw new StudioError(
      'failed',
      `no ${kind} picker here: the studio is not running as the desktop app; type the full path instead`,
      { unsupported: true },
    );
  },
  'dialogs.reveal': ({ path }) => {
    throw new StudioError(
      'failed',
      `no file manager here: the studio is not running as the desktop app; open ${path} yourself`,
      { unsupported: true },
    );
  },
};
