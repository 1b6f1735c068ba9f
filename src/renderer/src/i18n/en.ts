// The English catalogue: every string the UI shows, by key. Keys are grouped by where they appear
// (nav., settings., chat., …). A value is a string, or a function of typed parameters when the text holds
// figures or names; ko.ts must give the same keys with the same parameters (the type check enforces it).
import { formatNumber as n } from './format-number.ts';

export const en = {
  'app.name': 'LoRA Studio',
  'app.skipToContent': 'Skip to content',
  'app.currentProject': 'Current project',
  'app.navLabel': 'Studio',
  'app.themeSwitch': (p: { theme: 'light' | 'dark' }) => `Switch to the ${p.theme} theme`,
  'app.notConnected': 'LoRA Studio is not connected',
  'app.couldNotStart': 'The studio could not start',

  'nav.projects': 'Projects',
  'nav.new': 'New fine-tune',
  'nav.datasets': 'Datasets',
  'nav.runs': 'Runs',
  'nav.evaluate': 'Evaluate',
  'nav.compare': 'Compare runs',
  'nav.chat': 'Chat',
  'nav.adapters': 'Adapters',
  'nav.exports': 'Exports',
  'nav.settings': 'Settings',
  'nav.group.Workspace': 'Workspace',
  'nav.group.Fine-tune': 'Fine-tune',
  'nav.group.Use': 'Use',
  'nav.group.Studio': 'Studio',

  'connection.connecting': 'Connecting…',
  'connection.connected': 'Connected',
  'connection.reconnecting': 'Reconnecting…',
  'connection.closed': 'Disconnected',
  'connection.title': 'Live updates from the studio core',

  'common.tryAgain': 'Try again',
  'common.cancel': 'Cancel',
  'common.close': 'Close',
  'common.loading': 'Loading…',

  'gate.loadingProjects': 'Loading projects…',
  'gate.projectsFailed': 'Could not load the projects',
  'gate.createFirst': 'Create a project first',
  'gate.goToProjects': 'Go to Projects',
  'gate.worksInProject': (p: { page: string }) =>
    `${p.page} works inside a project. Once you have one, this page will let you:`,

  'settings.description': 'How the studio looks, the language it speaks, and the machine it runs its work on.',
  'settings.appearance': 'Appearance',
  'settings.theme': 'Theme',
  'settings.theme.system': 'Match system',
  'settings.theme.light': 'Light',
  'settings.theme.dark': 'Dark',
  'settings.themeHint': 'Match system follows your operating system’s light or dark setting.',
  'settings.language': 'Language',
  'settings.languageHint': 'Numbers and dates follow the language too. Kept in this browser (or this desktop app).',
  'settings.machine': 'This machine',
  'settings.checkAgain': 'Check again',
  'settings.checking': 'Checking the machine…',
  'settings.checkFailed': 'Could not check the machine',
  'settings.dataFolder': 'Data folder',
  'settings.dataFolderHint':
    'Projects, runs and exports live here. It is chosen at start: --data-dir or LORA_STUDIO_HOME for serve and the CLI.',
  'settings.studio': 'Studio',
  'settings.studioVersion': (p: { version: string; node: string; platform: string; arch: string }) =>
    `${p.version} on Node ${p.node}, ${p.platform} ${p.arch}`,
  'settings.cpu': 'CPU',
  'settings.cpuValue': (p: { threads: number; memory: string }) => `${n(p.threads)} threads, ${p.memory} memory`,
  'settings.onnx': 'ONNX Runtime',
  'settings.available': 'available',
  'settings.noBackends': 'no backends listed',
  'settings.notAvailable': (p: { reason: string }) => `Not available: ${p.reason}`,
  'settings.unknownReason': 'unknown reason',
  'settings.gpu': 'GPU (CUDA)',
  'settings.notUsed': (p: { reason: string }) => `Not used: ${p.reason}`,
  'settings.jobs': 'Jobs and Hugging Face',
  'settings.loading': 'Loading settings…',
  'settings.loadFailed': 'Could not load the settings',
  'settings.notSaved': 'Not saved',
  'settings.offline': 'Offline mode',
  'settings.offlineCheck': 'Use only models and datasets already downloaded',
  'settings.offlineEnv':
    'HF_HUB_OFFLINE is set in the environment the studio was started from, so downloads are off whatever this says.',
  'settings.offlineHint':
    'Hub pulls read the Hugging Face cache and never touch the network; a repo not downloaded yet fails with a clear message.',
  'settings.threads': 'CPU threads for training and chat',
  'settings.threadsForm': 'CPU threads',
  'settings.threadsRange': (p: { max: number }) =>
    `Enter a whole number from 1 to ${p.max}, or leave it empty to use all of them.`,
  'settings.threadsAll': (p: { max: number }) => `All (${p.max})`,
  'settings.threadsHint': (p: { now: number | null; max: number }) =>
    `Now: ${p.now ?? `all ${p.max}`}. Fewer threads leave the computer responsive but make training slower. Applies to jobs started afterwards.`,
  'settings.saveThreads': 'Save threads',
  'settings.token': 'Hugging Face token',
  'settings.tokenKeychain': 'encrypted with your system’s keychain',
  'settings.tokenFile': (p: { file: string | null }) =>
    `in a file only your user can read (${p.file ?? 'the data folder'})`,
  'settings.tokenEnv': (p: { stored: boolean }) =>
    `A token is set: HF_TOKEN in the environment the studio was started from. It takes precedence${p.stored ? ' over the stored one' : ''}.`,
  'settings.tokenStored': (p: { where: string }) => `A token is stored, ${p.where}.`,
  'settings.noToken': 'No token. Public models download without one; gated or private ones need it.',
  'settings.tokenReplace': 'Stored (enter a new one to replace it)',
  'settings.tokenHint': (p: { status: string }) =>
    `${p.status} It is never shown again once saved. Get one at huggingface.co/settings/tokens (read access is enough).`,
  'settings.saveToken': 'Save token',
  'settings.removeToken': 'Remove stored token',

  'adapters.madeOf': 'Made of',
  'adapters.madeOfLine': (p: { parts: string }) => `made of ${p.parts}`,
  'adapters.partsOf': (p: { name: string }) => `Parts of ${p.name}`,
  'adapters.part': (p: { name: string; weight: number }) => `${p.name}, weight ${n(p.weight)}`,
};

export type Catalog = { [K in keyof typeof en]: (typeof en)[K] extends string ? string : (typeof en)[K] };
export type MessageKey = keyof Catalog;
