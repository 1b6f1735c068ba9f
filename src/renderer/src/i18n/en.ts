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

  'chat.will1': 'Ask the base model and the fine-tuned one the same question and read both answers as they stream.',
  'chat.will2': 'Change temperature, top-p, top-k and the answer length, and scale the adapter’s effect with a slider.',
  'chat.will3': 'Keep each conversation and come back to it later.',
  'chat.description':
    'Ask the base model and the fine-tuned one the same question, side by side. Both answers stream as they are written.',
  'chat.newConversation': 'New conversation',
  'chat.loadingChoices': 'Loading models and adapters…',
  'chat.noModel': 'No model to talk to yet',
  'chat.noModelBody':
    'Chat needs a base model: open or pull one when you start a fine-tune. A finished run’s adapter then answers on the tuned side.',
  'chat.chooseModelFirst':
    'Choose a base model first: the folder of a model opened, pulled or trained on in this project.',
  'chat.notSent': 'The message was not sent',
  'chat.opening': 'Opening the conversation…',
  'chat.paneBase': 'Base model',
  'chat.paneTuned': 'Fine-tuned',
  'chat.noModelChosen': 'no model chosen',
  'chat.messageLabel': 'Message to both models',
  'chat.placeholderBoth': 'Ask both models the same question… (Enter sends, Shift+Enter for a new line)',
  'chat.placeholderBase': 'Ask the base model… (Enter sends)',
  'chat.stop': 'Stop',
  'chat.sendBoth': 'Send to both',
  'chat.send': 'Send',
  'chat.sideLabel': 'Chat settings and history',
  'chat.models': 'Models',
  'chat.baseModel': 'Base model',
  'chat.noModelsYet': 'No models yet',
  'chat.adapter': 'Adapter (tuned side)',
  'chat.adapterNone': 'None — base model only',
  'chat.adapterOption': (p: { name: string; r: number }) => `${p.name} (r ${p.r})`,
  'chat.adapterHintEmpty': 'A finished run’s adapter appears here.',
  'chat.adapterHint': 'Its base model is picked with it.',
  'chat.scale': 'Adapter scale',
  'chat.scaleHint': '0 = off, 1 = as trained, above 1 exaggerates it.',
  'chat.sampling': 'Sampling',
  'chat.samplingSummary': (p: { temperature: number; topP: number; topK: number; maxNewTokens: number }) =>
    `temperature ${p.temperature.toFixed(2)} · top-p ${p.topP.toFixed(2)} · top-k ${p.topK} · ${p.maxNewTokens} tokens`,
  'chat.samplingKept': 'Kept with this conversation.',
  'chat.samplingChange': 'Change',
  'chat.samplingHide': 'Hide',
  'chat.temperature': 'Temperature',
  'chat.temperatureHint': '0 always picks the likeliest word; higher is more varied.',
  'chat.topP': 'Top-p',
  'chat.topPHint': 'Only the likeliest words that together reach this probability.',
  'chat.topK': 'Top-k',
  'chat.topKHint': 'Only the K likeliest next words (0 = no limit).',
  'chat.maxTokens': 'Max tokens',
  'chat.maxTokensHint': 'The longest answer, in tokens.',
  'chat.conversations': 'Conversations',
  'chat.savedHere': 'Conversations are saved here as you send.',
  'chat.savedList': 'Saved conversations',
  'chat.loadingConversations': 'Loading conversations…',
  'chat.paneAnswers': (p: { pane: string }) => `${p.pane} answers`,
  'chat.answersAppear': 'Answers appear here.',
  'chat.you': 'You:',
  'chat.emptyAnswer': '(empty answer)',
  'chat.thinking': 'Thinking…',
  'chat.stopped': 'Stopped.',
  'chat.answeredWithBase': (p: { model: string }) => `${p.model}`,
  'chat.answeredWithAdapter': (p: { adapters: string; model: string }) => `${p.adapters} on ${p.model}`,
  'chat.baseMismatchTitle': 'This adapter was trained on another base model',
  'chat.baseMismatch': (p: { adapter: string; trained: string; chosen: string }) =>
    `“${p.adapter}” was trained on ${p.trained}, not on ${p.chosen}. Its changes are to that model’s weights, so answers here may be meaningless. Pick ${p.trained} as the base model, or another adapter.`,
  'chat.useTrainedBase': 'Use its base model',

  'datasets.noBadRows': 'No bad rows.',
  'datasets.badRowsSummary': (p: { rows: number; problems: number }) =>
    `${n(p.rows)} row${p.rows === 1 ? '' : 's'} could not be used and ${p.rows === 1 ? 'is' : 'are'} left out` +
    (p.problems > p.rows ? ` (${n(p.problems)} problems in them)` : '') +
    `. Fix the file and import it again to include ${p.rows === 1 ? 'it' : 'them'}.`,
  'datasets.firstListed': (p: { listed: number }) => `The first ${n(p.listed)} are listed.`,
  'datasets.problemsList': 'Problems found at import',
  'datasets.expected': (p: { expected: string }) => ` — expected ${p.expected}`,
  'datasets.line': (p: { line: number }) => `line ${p.line}`,
  'datasets.row': (p: { row: number }) => `row ${p.row}`,
  'datasets.duplicates': 'Duplicate rows',
  'datasets.noDuplicates': 'No row repeats another exactly.',
  'datasets.duplicatesSummary': (p: { rows: number }) =>
    `${n(p.rows)} row${p.rows === 1 ? ' repeats' : 's repeat'} an earlier row exactly. They are kept, so training sees that content more often; remove them from the file if that is not what you want.`,
  'datasets.duplicatesList': 'Rows repeating an earlier row',
  'datasets.duplicateOf': (p: { first: string; repeats: string }) => `${p.first} is repeated at ${p.repeats}`,
  'datasets.moreGroups': (p: { listed: number }) => `The first ${n(p.listed)} groups are listed.`,
  'datasets.heavyTitle': 'This tokenizer spends far more tokens than usual on this text',
  'datasets.heavyBody': (p: {
    perChar: number;
    factor: number;
    tokens: number;
    usualTokens: number;
    examples: number;
  }) =>
    `${n(p.perChar, { maximumFractionDigits: 2 })} tokens per character, about ${n(p.factor, { maximumFractionDigits: 0 })}× what text usually costs (≈ ${n(0.3)}): the model has no merges for this script and spells it out byte by byte. ` +
    `The ${n(p.examples)} examples come to ≈ ${n(p.tokens)} tokens instead of ≈ ${n(p.usualTokens)}, so each epoch takes about ${n(p.factor, { maximumFractionDigits: 0 })}× longer, needs more memory per example, and more examples are cut at the max length. ` +
    `A base model whose tokenizer covers this language (its model card lists the languages) trains faster and usually better.`,
  'common.actions': 'Actions',
  'common.save': 'Save',
  'projects.name': 'Name',
  'projects.current': 'Current',
  'projects.created': 'Created',
  'projects.lastChanged': 'Last changed',
  'projects.makeCurrent': 'Make current',
  'projects.makeCurrentLabel': (p: { name: string }) => `Make ${p.name} the current project`,
  'projects.rename': 'Rename',
  'projects.renameLabel': (p: { name: string }) => `Rename ${p.name}`,
  'projects.delete': 'Delete',
  'projects.deleteLabel': (p: { name: string }) => `Delete ${p.name}`,
  'projects.description':
    'A project keeps one fine-tuning effort together: its base model, datasets, runs, adapters and exports.',
  'projects.new': 'New project',
  'projects.none': 'No projects yet',
  'projects.create': 'Create a project',
  'projects.noneBody':
    'Everything in the studio belongs to a project. Create one to start: you then pick a base model and a dataset for your first fine-tune.',
  'projects.createButton': 'Create project',
  'projects.nameHint': 'Unique among your projects; you can rename it later.',
  'projects.descriptionLabel': 'Description',
  'projects.descriptionHint': 'Optional: what this fine-tune is for.',
  'projects.notCreated': 'The project was not created',
  'projects.newName': (p: { name: string }) => `New name for ${p.name}`,
  'projects.deleteTitle': 'Delete this project?',
  'projects.deleteButton': 'Delete project',
  'projects.deleteBody':
    'and everything recorded under it (datasets, runs, adapters, evaluations and exports) will be removed from this machine. This cannot be undone.',
  'projects.notDeleted': 'The project was not deleted',

  'projects.nameTaken': (p: { name: string }) => `A project named “${p.name}” already exists. Choose another name.`,

  'datasets.will1': 'Import JSONL, JSON, CSV/TSV or Parquet files and detect their format and columns.',
  'datasets.will2': 'Page through rows and see the exact training text, with trained and masked tokens marked.',
  'datasets.will3': 'See the token-length histogram and how much the max length would cut.',
  'datasets.description':
    'The training and evaluation data of the current project, checked and previewed as training will see it.',
  'datasets.dataset': 'Dataset',
  'datasets.format': 'Format',
  'datasets.usableRows': 'Usable rows',
  'datasets.badRows': 'Bad rows',
  'datasets.imported': 'Imported',
  'datasets.preview': 'Preview',
  'datasets.forgetLabel': (p: { name: string }) => `Forget ${p.name}`,
  'datasets.forgetTitle': 'Forget this dataset (the file stays)',
  'datasets.importTitle': 'Import a dataset',
  'datasets.file': 'Dataset file',
  'datasets.fileHint': 'Full path of a JSONL, JSON, CSV/TSV or Parquet file on the machine running the studio.',
  'datasets.chooseFile': 'Choose a dataset file',
  'datasets.import': 'Import',
  'datasets.skipBad': 'Skip bad rows',
  'datasets.skipBadText': 'Import the usable rows; every bad one is listed with its line and field.',
  'datasets.stopBad': 'Stop at the first bad row',
  'datasets.stopBadText': 'Nothing is imported until the file is clean.',
  'datasets.importProgress': 'Import progress',
  'datasets.reading': 'reading…',
  'datasets.importFailed': 'The import failed',
  'datasets.loading': 'Loading datasets…',
  'datasets.loadFailed': 'Could not load the datasets',
  'datasets.none': (p: { project: string }) => `No datasets in “${p.project}” yet`,
  'datasets.noneBody': 'Import a file above to check it and preview it as training text.',
  'datasets.back': '← All datasets',
  'datasets.rendering': 'Reading and rendering the dataset…',
  'datasets.previewFailed': 'Could not preview the dataset',
  'datasets.duplicatesShort': 'Duplicates',
  'datasets.fileShort': 'File',
  'datasets.columns': 'Columns',
  'datasets.hash': 'Content hash',
  'datasets.split': 'Split',
  'datasets.splitValue': (p: { train: number; eval: number; ratio: number; seed: number }) =>
    `${n(p.train)} train / ${n(p.eval)} eval (ratio ${p.ratio}, seed ${p.seed})`,
  'datasets.renderWith': 'Render with the tokenizer of',
  'datasets.noModel': 'No base model yet — open one in New fine-tune',
  'datasets.maxLength': 'Max length (tokens)',
  'datasets.maxLengthError': 'A whole number of tokens between 1 and 131072.',
  'datasets.tokenLengths': 'Token lengths',
  'datasets.rows': 'Rows',
  'datasets.rowsCaption': 'Dataset rows',
  'datasets.rowHeader': 'Row',
  'datasets.content': 'Content',
  'datasets.tokens': 'Tokens',
  'datasets.showRow': (p: { row: number }) => `Show row ${p.row} as training text`,
  'datasets.cutMark': ' (cut)',
  'datasets.pageOf': (p: { from: number; to: number; total: number }) =>
    `Rows ${n(p.from)}–${n(p.to)} of ${n(p.total)}`,
  'datasets.previousPage': 'Previous page',
  'datasets.nextPage': 'Next page',
  'datasets.trainingTextOf': (p: { row: string }) => `Training text of ${p.row}`,
  'datasets.trainingText': 'Training text',
  'datasets.renderedText': 'Rendered training text',
  'datasets.noRows': 'No rows.',
  'datasets.templateUsed': (p: { kind: string }) => `Template used (${p.kind})`,
  'adapters.will1': 'See every adapter your runs produced, with its rank, targets and size.',
  'adapters.will2': 'Merge an adapter into its base model, or combine several with weights into a new one.',
  'adapters.will3': 'Open an adapter in Chat and scale its effect.',
  'adapters.source.run': 'from a run',
  'adapters.source.imported': 'imported',
  'adapters.source.combined': 'combined',
  'adapters.description':
    'The LoRA adapters of this project: small files that turn the base model into your fine-tuned one.',
  'adapters.import': 'Import adapter',

  'exports.will1':
    'Write a merged Hugging Face model folder, or a GGUF file for llama.cpp and Ollama, with a size estimate for each type.',
  'exports.will2': 'Copy the adapter for Python PEFT, or write it as a llama.cpp LoRA file.',
  'exports.will3': 'Follow each export’s progress, cancel it, and copy where it went.',
  'exports.description':
    'Take a fine-tuned model out of the studio in the format your tools read. Nothing is overwritten unless you say so.',
  'exports.download': 'Download',
  'status.queued': 'Queued',
  'status.running': 'Running',
  'status.succeeded': 'Finished',
  'status.failed': 'Failed',
  'status.cancelled': 'Cancelled',
  'preview.cannotRender': (p: { error: string }) => `This row cannot be rendered: ${p.error}`,
  'preview.chooseModel': 'Choose a base model to see this row as training text.',
  'preview.tokenTitle': (p: { ids: string; special: boolean; trained: boolean }) =>
    `token ${p.ids}${p.special ? ' (special)' : ''}: ${p.trained ? 'trained' : 'masked (context only)'}`,
  'preview.trained': 'trained',
  'preview.trainedText': 'tokens the model learns to write',
  'preview.masked': 'masked',
  'preview.maskedText': 'context only',
  'preview.specialText': 'special tokens',
  'preview.tokenCount': (p: { tokens: number; trained: number }) => `${n(p.tokens)} tokens, ${n(p.trained)} trained`,
  'preview.cutFrom': (p: { length: number }) => ` — cut from ${n(p.length)} at the max length`,
  'preview.histogramLabel': (p: {
    count: number;
    min: number;
    max: number;
    median: number;
    truncated: number;
    cut: number | null;
  }) =>
    `Token lengths of ${p.count} examples: from ${p.min} to ${p.max}, median ${p.median}; ${p.truncated} longer than the max length${p.cut !== null ? ` ${p.cut}` : ''}`,
  'preview.binTitle': (p: { from: number; to: number; count: number; over: boolean }) =>
    `${p.from}–${p.to} tokens: ${p.count} example(s)${p.over ? ' (cut)' : ''}`,
  'preview.maxLength': (p: { cut: number }) => `max length ${p.cut}`,
  'preview.tokensAxis': (p: { tokens: number }) => `${p.tokens} tokens`,
  'preview.measured': (p: { count: number; median: number; p95: number; max: number }) =>
    `${n(p.count)} examples measured · median ${p.median} · p95 ${p.p95} · longest ${p.max} tokens`,
  'preview.truncated': (p: { count: number; share: number; cut: number }) =>
    `${p.count} (${(p.share * 100).toFixed(1)}%) longer than ${p.cut} tokens: they will be cut`,
  'preview.noneTruncated': (p: { cut: number | null; beyond: boolean }) =>
    `none longer than ${p.cut ?? 'the max length'} tokens${p.beyond ? ' (the max length is beyond the longest example)' : ''}`,
  'preview.untrainable': (p: { count: number }) => `${p.count} with no trained token left`,
};

export type Catalog = { [K in keyof typeof en]: (typeof en)[K] extends string ? string : (typeof en)[K] };
export type MessageKey = keyof Catalog;
