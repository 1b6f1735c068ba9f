// The desktop app's native file and folder picker. Only the Electron shell answers it (it opens the OS
// dialog); the core itself has no screen, so under `serve` and the CLI it fails with a sentence saying to type
// the path. The renderer shows its "Browse…" button only inside the desktop app.
import { z } from 'zod';

export const DIALOGS_PICK = 'dialogs.pick';
export const DIALOGS_REVEAL = 'dialogs.reveal';

export const dialogMethods = {
  'dialogs.pick': {
    input: z.object({
      kind: z.enum(['folder', 'file']),
      title: z.string().max(200).optional(),
      /** File dialogs: extensions offered, without dots (e.g. ["jsonl", "csv"]). */
      extensions: z
        .array(z.string().regex(/^[A-Za-z0-9]+$/))
        .max(20)
        .optional(),
    }),
    output: z.object({ path: z.string().nullable().describe('The chosen path; null when the dialog was cancelled.') }),
    doc: 'Desktop app only: open the system’s folder or file picker and return the chosen path.',
  },
  'dialogs.reveal': {
    input: z.object({ path: z.string().min(1).max(4096) }),
    output: z.object({ shown: z.boolean() }),
    doc: 'Desktop app only: show a file or folder in the system’s file manager (e.g. an export’s result).',
  },
};
