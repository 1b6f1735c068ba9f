// Studio-wide settings: CPU threads for training and inference, offline mode for Hub downloads, and the
// Hugging Face token. The token is write-only through this API: callers learn whether one is set and where it
// comes from, never its value. The data folder is shown from system.doctor (it is chosen at start, not here).
import { z } from 'zod';

/** Where a stored token is kept: the OS keychain (desktop app) or a file only this user can read (serve, CLI). */
export const TokenStorage = z.enum(['keychain', 'file']);
export type TokenStorage = z.infer<typeof TokenStorage>;

export const Settings = z.object({
  threads: z
    .number()
    .int()
    .positive()
    .nullable()
    .describe('CPU threads for training and inference jobs; null: all of them.'),
  cpuThreads: z.number().int().describe('CPU threads this machine has (the default).'),
  offline: z.boolean().describe('Use only the Hugging Face cache: no downloads.'),
  modelKeepAliveMinutes: z
    .number()
    .describe('Minutes a chat model stays loaded after an answer, for the next turn (0: unload at once).'),
  offlineFromEnv: z
    .boolean()
    .describe('HF_HUB_OFFLINE is set in the environment, which forces offline whatever this setting says.'),
  hubToken: z.object({
    /** A token reaches Hub downloads (from the environment or stored). */
    set: z.boolean(),
    /** Where the token in use comes from; HF_TOKEN in the environment wins over a stored one. */
    source: z.enum(['env', 'stored']).nullable(),
    /** A token is stored (it may be shadowed by HF_TOKEN). */
    stored: z.boolean(),
    storage: TokenStorage,
    /** Path of the token file when storage is "file". */
    file: z.string().nullable(),
  }),
});
export type Settings = z.infer<typeof Settings>;

// Hub user access tokens start with "hf_"; anything else would only fail later, at a download.
const HubToken = z
  .string()
  .trim()
  .regex(
    /^hf_[A-Za-z0-9]{4,200}$/,
    'a Hugging Face token starts with "hf_" followed by letters and digits (copy it from huggingface.co/settings/tokens)',
  );

export const settingsMethods = {
  'settings.get': {
    input: z.object({}),
    output: Settings,
    doc: 'Current settings; the Hub token only as whether one is set and where it comes from.',
  },
  'settings.update': {
    input: z.object({
      threads: z.number().int().positive().max(1024).nullable().optional().describe('null: use all CPU threads.'),
      offline: z.boolean().optional(),
      modelKeepAliveMinutes: z
        .number()
        .min(0)
        .max(1440)
        .optional()
        .describe('0 unloads a chat model after each answer.'),
    }),
    output: Settings,
    doc: 'Change threads and/or offline mode; they apply to jobs started afterwards.',
  },
  'settings.setHubToken': {
    input: z.object({ token: HubToken }),
    output: Settings,
    doc: 'Store the Hugging Face token securely (keychain in the desktop app, a 0600 file in the data folder otherwise).',
  },
  'settings.clearHubToken': {
    input: z.object({}),
    output: Settings,
    doc: 'Forget the stored Hugging Face token (HF_TOKEN in the environment, if any, still applies).',
  },
};
