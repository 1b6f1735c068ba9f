// Sentences the core says to a person, each as a stable code with its parameters beside the English text.
// The core sends both (`{ message, phrase }`): the CLI prints the English message; the studio's UI renders the
// code from its catalogue in the UI's language (src/renderer/src/i18n, keys `core.<code>`) and falls back to the
// English message for a code it does not know (a newer core). This table is the English text, the one source
// for the core's messages and the UI's English catalogue alike.
import { z } from 'zod';

/** On the wire: a code and its parameters (numbers raw, so each language formats them). */
export const Phrase = z.object({
  code: z.string(),
  params: z.record(z.string(), z.union([z.string(), z.number()])),
});
export type Phrase = z.infer<typeof Phrase>;

/**
 * Bytes as every face says them, in binary units ("15.8 KiB", "1.2 GiB"): the one formatter of the core's sentences,
 * the CLI and the studio's pages (src/renderer/src/format.ts re-exports it), so a size reads the same everywhere.
 */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}
/** A count with its noun in the right number: "1 file", "3 files" (never "3 file(s)"). */
export function countOf(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
const percent = (share: number) => `${(share * 100).toFixed(1)}%`;
const GiB = 1024 ** 3;
const gib = (bytes: number) => `${(bytes / GiB).toFixed(1)} GiB`;
/** How the plan names a training method in a sentence. */
export type MethodName = 'lora' | 'qlora' | 'full';
const methodName = (method: MethodName) =>
  method === 'full' ? 'full fine-tuning' : method === 'qlora' ? 'QLoRA' : 'LoRA';

/** What an evaluation pass measures: the base model, the base with the adapter, a fully fine-tuned model. */
export const EVAL_SIDES = { base: 'base model', adapter: 'with adapter', trained: 'trained model' } as const;
export type EvalSide = keyof typeof EVAL_SIDES;

/** How a dataset problem names a value it found instead of the expected one. */
export const VALUE_KINDS = {
  null: 'null',
  array: 'an array',
  emptyString: 'an empty string',
  string: 'a string',
  object: 'an object',
  number: 'a number',
  bigint: 'a bigint',
  boolean: 'a boolean',
  symbol: 'a symbol',
  undefined: 'missing',
  function: 'a function',
} as const;
export type ValueKind = keyof typeof VALUE_KINDS;
/** What a stored record's field should hold, and what it holds instead (system.unreadable). */
export const STALE_EXPECTED = {
  string: 'a text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  choice: 'one of the known values',
  other: 'a value this version reads',
} as const;
export type StaleExpected = keyof typeof STALE_EXPECTED;
export const STALE_FOUND = {
  missing: 'missing',
  null: 'empty (null)',
  string: 'a text',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
} as const;
export type StaleFound = keyof typeof STALE_FOUND;
const STALE_RECORD = { model: 'base model', dataset: 'dataset', run: 'run' } as const;
const STALE_PART = { model: 'summary', dataset: 'import report', run: 'config' } as const;

/** The part of an example a dataset column is mapped to, as a problem names it. */
export const DATASET_PARTS = {
  text: 'text',
  instruction: 'instruction',
  input: 'input',
  output: 'output',
  prompt: 'prompt',
  completion: 'completion',
  messages: 'the messages',
} as const;
export type DatasetPart = keyof typeof DATASET_PARTS;

/** Why a line is not JSON, in words that say what to fix (formats/dataset/json-syntax.ts reads V8's message). */
export const JSON_SYNTAX = {
  endsEarly: 'the line ends before the JSON does: a brace, bracket or quote is not closed',
  unclosedString: 'a string is never closed with a double quote',
  controlInString: 'a string holds a raw tab or line break: write it as \\t or \\n',
  badEscape: 'a backslash escape is not one JSON knows (\\n, \\t, \\", \\\\, \\uXXXX)',
  propertyName: 'expected a field name in double quotes (no trailing comma, no single quotes)',
  colon: 'expected a colon after the field name',
  commaOrBrace: 'expected a comma or a closing brace after a value',
  commaOrBracket: 'expected a comma or a closing bracket after a list element',
  textAfter: 'more text follows the end of the JSON object: one object per line',
  badNumber: 'a number is cut short',
  unexpected: 'a character JSON does not allow here',
} as const;
export type JsonSyntaxReason = keyof typeof JSON_SYNTAX;

/**
 * A sentence inside another's parameters (a bad row's problem inside "stopped at row …"): its English text under
 * `name`, its code under `name@` and its parameters under `name@<parameter>`. The English entry reads `p[name]` as
 * text; the UI says the inner phrase in its language first (renderer i18n/phrase.ts) and hands the entry that.
 */
export function nested(name: string, said: { message: string; phrase?: Phrase | undefined }): Record<string, string | number> {
  const out: Record<string, string | number> = { [name]: said.message };
  if (said.phrase) {
    out[`${name}@`] = said.phrase.code;
    for (const [key, value] of Object.entries(said.phrase.params)) out[`${name}@${key}`] = value;
  }
  return out;
}
type Nested = Record<string, string | number>;

/** Why LoRA's target_modules cannot train this model, said by PEFT's matcher (and, with its consequence, by the plan). */
const TARGETS = {
  empty: 'target_modules is empty: list module names (e.g. ["q_proj", "v_proj"]) or use "all-linear"',
  notLinear: (p: { target: string; module: string }) =>
    `target module "${p.target}" matches ${p.module}, which is not a linear layer (LoRA applies to Linear/Conv1D modules only)`,
  noMatch: (p: { what: string; architecture: string; available: string }) =>
    `target_modules ${p.what} matches no linear module of ${p.architecture} (available: ${p.available})`,
};
const failsAtStart = (reason: string) => `${reason}; the run would fail at the start`;

export const PHRASES = {
  // ── models.plan: warnings ───────────────────────────────────────────────────────────────────────
  'plan.unrenderable': (p: { row: number; reason: string }) =>
    `row ${p.row} cannot be rendered with this template (${p.reason}); choose another template`,
  'plan.truncated': (p: { count: number; total: number; share: number; maxLength: number; longest: number }) =>
    `${p.count} of ${p.total} examples (${percent(p.share)}) are longer than max_seq_length ${p.maxLength} tokens and will be cut (longest: ${p.longest})`,
  'plan.untrainable': (p: { count: number }) =>
    `${p.count} examples have no trained token left (the answer is cut off or missing); they are skipped`,
  'plan.fewExamples': (p: { count: number }) =>
    `only ${p.count} training examples: the model will mostly memorise them; a few hundred or more is usual`,
  'plan.datasetUnreadable': (p: { reason: string }) => `the dataset could not be read with this model: ${p.reason}`,
  'plan.learningRate': (p: { lr: number; lo: number; hi: number; method: MethodName; high: number }) =>
    `learning rate ${p.lr} is outside the usual ${p.lo}–${p.hi} for ${p.method === 'full' ? 'full fine-tuning' : 'LoRA'}; ${p.high ? 'the loss may jump or diverge' : 'the model may barely change'}`,
  'plan.beyondPositions': (p: { maxLength: number; positions: number }) =>
    `${p.maxLength} tokens is beyond the model’s ${p.positions} positions; use ${p.positions} or less`,
  'plan.alphaRatio': (p: { ratio: number }) =>
    `lora_alpha / r = ${p.ratio.toFixed(1)}: a large adapter scale; 2 is usual`,
  'plan.memoryHigh': (p: { bytes: number; total: number; method: MethodName }) =>
    `the estimate (${gib(p.bytes)}) is above 80% of this machine’s ${gib(p.total)}${p.method === 'lora' ? '; QLoRA stores the base in 4 bits' : ''}`,
  'plan.targetsFail': (p: { reason: string }) => failsAtStart(p.reason),
  'plan.targets.empty': failsAtStart(TARGETS.empty),
  'plan.targets.notLinear': (p: { target: string; module: string }) => failsAtStart(TARGETS.notLinear(p)),
  'plan.targets.noMatch': (p: { what: string; architecture: string; available: string }) =>
    failsAtStart(TARGETS.noMatch(p)),
  'targets.empty': TARGETS.empty,
  'targets.notLinear': TARGETS.notLinear,
  'targets.noMatch': TARGETS.noMatch,
  'targets.ignored': (p: { target: string; architecture: string; available: string }) =>
    `target module "${p.target}" matches no module of ${p.architecture}; it is ignored (linear modules here: ${p.available})`,
  'compare.targetsMapped': (p: { architecture: string; targets: string; replacement: string }) =>
    `${p.architecture} has no module ${p.targets} (the recipe names another family's modules): LoRA targets its equivalent ${p.replacement} instead`,
  'compare.targetsDefault': (p: { family: string; targets: string }) =>
    `the recipe kept the decoder default targets q_proj, k_proj, v_proj, o_proj, which ${p.family} does not have: LoRA targets PEFT's default for ${p.family}, ${p.targets}`,

  // ── models.plan: how the estimates are made ─────────────────────────────────────────────────────
  'plan.part.frozenBase': 'frozen base weights (fp32)',
  'plan.part.nf4': (p: { bits: number }) => `frozen linear weights in NF4 (${p.bits.toFixed(2)} bits each)`,
  'plan.part.otherBase': 'other base weights (fp32: embeddings, norms)',
  'plan.part.fullState': 'weights, gradients and AdamW state (4 × fp32 per weight)',
  'plan.part.adapterState': 'adapter weights, gradients and AdamW state (4 × fp32)',
  'plan.part.activations': 'activations kept for the backward pass',
  'plan.part.logits': 'logits and their gradient',
  'plan.part.runtime': 'runtime (onnxruntime, tokenizer, the studio)',
  'plan.memoryFormula':
    'weights as the CPU executor holds them + 16 bytes per trained parameter (weight, gradient, two AdamW moments) + activations ≈ micro_batch × tokens × layers × (6·hidden + 3·mlp + heads·tokens) × 4 bytes + logits and gradient (2 × tokens × vocab × 4 bytes) + a fixed runtime allowance. An estimate: the real peak can differ by tens of percent.',
  'plan.timeMeasured': (p: { tokensPerSecond: number; run: string }) =>
    `steps × batch × mean tokens ÷ ${p.tokensPerSecond.toFixed(0)} tokens/s, the speed run “${p.run}” measured on this model and method here. An estimate: evaluation, checkpoints and start-up come on top.`,
  'plan.timeAssumed': (p: { factor: number; backward: number; gflops: number; threads: number; method: MethodName }) =>
    `steps × batch × mean tokens × ${p.factor} × parameters FLOPs (forward 2, backward ${p.backward} per parameter and token) ÷ an assumed ${p.gflops.toFixed(0)} GFLOP/s per CPU thread × ${p.threads} threads. No finished ${methodName(p.method)} run on this model here yet: the first one will calibrate it. An estimate: evaluation, checkpoints and start-up come on top.`,

  // ── progress lines of the train, eval and export jobs ───────────────────────────────────────────
  'progress.loadingData': 'loading tokenizer and dataset',
  'progress.loadingModel': 'loading the model',
  // counts grouped like every number a face shows ("step 840/1,000,000"), in plain ASCII for the CLI and logs
  'progress.step': (p: { step: number; total: number; loss: number }) =>
    `step ${p.step.toLocaleString('en-US')}/${p.total.toLocaleString('en-US')} · loss ${p.loss.toFixed(4)}`,
  'progress.evalLoading': (p: { side: EvalSide }) => `loading ${EVAL_SIDES[p.side]}`,
  'progress.evalBatch': (p: { side: EvalSide; batch: number; total: number }) =>
    `${EVAL_SIDES[p.side]}: batch ${p.batch.toLocaleString('en-US')}/${p.total.toLocaleString('en-US')}`,
  'progress.exportOpening': 'opening the model',
  'progress.exportTensor': (p: { verb: 'merging' | 'writing'; tensor: string; done: number; total: number }) =>
    `${p.verb} ${p.tensor} (${p.done} of ${p.total})`,
  'progress.exportWrote': (p: { path: string }) => `wrote ${p.path}`,
  'progress.exportOnnx': 'merging the adapter and building the ONNX graph',
  'progress.rowsRead': (p: { rows: number }) => `${p.rows.toLocaleString('en-US')} rows read`,
  'progress.mergeReading': (p: { file: string }) => `reading ${p.file}`,
  'progress.mergeCombining': 'combining',
  'progress.bundleRendering': 'rendering the dataset as the run trains on it',
  'progress.bundleWriting': 'writing the bundle',
  'progress.taskMeasuring': 'measuring the eval set',
  'progress.pullResolving': (p: { repo: string; revision: string }) => `resolving ${p.repo}@${p.revision}`,
  'progress.pullBytes': (p: { bytes: number; total: number; file: string }) =>
    `${formatBytes(p.bytes)} of ${formatBytes(p.total)}${p.file ? ` (${p.file})` : ''}`,
  'progress.pullChecking': 'checking the model folder',
  'progress.pushPreparing': (p: { source: string }) => `preparing ${p.source}`,
  'progress.pushChecking': (p: { repo: string; done: number; total: number }) =>
    `checking ${p.repo} · ${p.done} of ${countOf(p.total, 'file')}`,
  'progress.pushHashing': (p: { file: string; done: number; total: number }) =>
    `hashing ${p.file} · ${p.done} of ${countOf(p.total, 'file')}`,
  'progress.pushCommitting': (p: { done: number; total: number }) => `committing · ${p.done} of ${countOf(p.total, 'file')}`,
  'progress.pushSending': (p: { bytes: number; total: number; file: string; done: number; totalFiles: number }) =>
    `${formatBytes(p.bytes)} of ${formatBytes(p.total)} sent${p.file ? ` (${p.file})` : ''} · ${p.done} of ${countOf(p.totalFiles, 'file')}`,
  'progress.fusionCompare': (p: { set: string }) =>
    `${p.set || 'the eval split'}: each adapter alone, their uniform average and the learned combination`,
  // the push's outcome, the last thing the job says (its log, the CLI, Publish…'s banner)
  'progress.pushCommitted': (p: { url: string; files: number; commit: string; uploaded: number }) =>
    `Published to ${p.url}: ${countOf(p.files, 'file')} committed (${p.commit}), ${p.uploaded > 0 ? `${formatBytes(p.uploaded)} uploaded` : "the large files were already in the Hub's storage"}`,
  'progress.pushUnchanged': (p: { url: string }) => `Published to ${p.url}: it already held exactly these files, nothing was sent`,

  // ── common errors ───────────────────────────────────────────────────────────────────────────────
  'error.notAbsolute': (p: { field: string; path: string; what: 'file' | 'folder' }) =>
    `${p.field}: "${p.path}" is not an absolute path; type the full path of the ${p.what}`,
  'error.nothingAt': (p: { field: string; path: string; what: 'file' | 'folder' }) =>
    `${p.field}: nothing at ${p.path}; check the path (the ${p.what} must be on the machine running the studio)`,
  'error.isFolder': (p: { field: string; path: string }) =>
    `${p.field}: ${p.path} is a folder; choose the dataset file inside it`,
  'error.isFile': (p: { field: string; path: string }) =>
    `${p.field}: ${p.path} is a file; choose the model folder (the one with config.json)`,
  'error.invalidInput': (p: { method: string; fields: string }) => `invalid input for ${p.method}: ${p.fields}`,
  'guard.sameAsInput': (p: { out: string; role: string; input: string }) =>
    `${p.out} is the ${p.role} ${p.input}: an output never replaces an input of the same operation; choose another path`,
  'guard.insideInput': (p: { out: string; role: string; input: string }) =>
    `${p.out} is inside the ${p.role} ${p.input}: writing there would change the input; choose a path outside it`,
  'guard.holdsInput': (p: { out: string; role: string; input: string }) =>
    `${p.out} contains the ${p.role} ${p.input}: replacing it would delete the input; choose a path that does not hold it`,
  'guard.exists': (p: { out: string }) =>
    `${p.out} already exists; choose another path, or set overwrite to replace it`,
  'guard.notOurs': (p: { out: string; holds: string; shape: 'file' | 'folder' }) =>
    `${p.out} already exists and is not something LoRA Studio wrote (it holds ${p.holds}); overwrite only replaces a previous output of this kind: choose a new or empty ${p.shape}, or move it away yourself`,

  // ── exports: a format that does not fit the adapter ──────────────────────────────────────────────
  'exports.ggufNeedsDecoder': (p: { adapter: string; task: string; format: string; choices: string }) =>
    `${p.format}: adapter “${p.adapter}” is a ${p.task} adapter of an encoder (BERT-style) model, and llama.cpp’s GGUF holds decoder language models only; choose one of ${p.choices} (onnx runs in a browser with transformers.js, hf is the merged folder transformers loads)`,
  'exports.onnxNeedsEncoder': (p: { adapter: string; choices: string }) =>
    `onnx: adapter “${p.adapter}” is a language-model adapter; the ONNX export is for encoder task models (classification, question answering); choose one of ${p.choices}`,

  // ── what the studio ships (the wizard's cards) ─────────────────────────────────────────────────
  'bundled.modelName': 'LoRA Studio default model (bundled)',
  'bundled.datasetName': 'Demo: pirate answers',
  'bundled.datasetDescription':
    'Chats where every answer starts with “Ahoy, matey!” and ends with “Arr!”: a style the bundled default model learns in a few minutes. Comes with its own eval file.',

  // ── the contract's own checks of a field (zod messages; a UI form shows them too) ───────────────
  'input.projectName': 'a project needs a name',
  'input.projectNameLong': 'a project name has at most 120 characters',
  'input.datasetPath': 'type the path of a dataset file (JSONL, JSON, CSV/TSV or Parquet)',
  'input.modelPath': 'type the path of a model folder (the one with config.json)',
  'input.hubModelId': 'a Hub model id looks like "owner/name", e.g. HuggingFaceTB/SmolLM2-135M',

  // ── chatting with an AdapterFusion combination (issue 15) ─────────────
  'chat.fusionLlamaCpp': (p: { path: string }) =>
    `llama.cpp cannot answer with the AdapterFusion combination ${p.path}: its attention weighs the adapters anew for every token, which a GGUF model or LoRA adapter cannot express. Choose the studio backend (or auto, which picks it), or train the learned-weights variant (lora-studio fuse --mode weights): that result is one ordinary adapter llama.cpp loads.`,
  'chat.fusionAlone': (p: { path: string }) =>
    `${p.path} is an AdapterFusion combination: it answers alone and as trained (scale 1), not stacked with other adapters nor shipped as a GGUF (it already combines its own adapters; for a GGUF train the learned-weights variant, lora-studio fuse --mode weights)`,
  'predict.fusionDecoder': (p: { path: string }) =>
    `${p.path} is an AdapterFusion combination of decoder (language-model) adapters; predictions and task metrics answer with encoder task models (classification, question answering) and their combinations. Chat with it (lora-studio chat --adapter ${p.path}) or measure its perplexity (lora-studio eval --adapter ${p.path})`,

  // ── models.plan of an encoder task run (classification, question answering) ─────────────────────
  'plan.taskNeedsEncoder': (p: { architecture: string; family: string; task: string }) =>
    `${p.architecture} is a decoder (${p.family}): task "${p.task}" needs an encoder (BERT, DistilBERT, RoBERTa, XLM-RoBERTa or ELECTRA); choose one, or teach chat / instructions with this model`,
  'plan.taskRowsLeftOut': (p: { count: number; file: string }) =>
    `${p.count} rows of ${p.file} are left out (listed on the dataset step); the run trains on the others`,
  'plan.memoryFormulaTask':
    'weights the CPU executor holds + 16 bytes per trained parameter (weight, gradient, two AdamW moments) + activations ≈ micro_batch × tokens × layers × (6·hidden + 3·mlp + heads·tokens) × 4 bytes + the head’s outputs and their gradient (labels per text, or a start and an end per token) + a fixed runtime allowance. An estimate: the real peak can differ by tens of percent.',

  // ── a dataset's bad rows: what is wrong with a field, and what was expected instead ─────────────
  'mapping.given': 'given',
  'mapping.chat': (p: { column: string; roleKey: string; contentKey: string }) =>
    `column "${p.column}" holds a list of messages ({${p.roleKey}, ${p.contentKey}})`,
  'mapping.alpaca': (p: { input: string; output: string }) =>
    `columns "instruction"${p.input ? `, "${p.input}"` : ''} and "${p.output}" (instruction-following, alpaca style)`,
  'mapping.pair': (p: { prompt: string; completion: string }) =>
    `columns "${p.prompt}" → "${p.completion}" (prompt and completion)`,
  'mapping.text': (p: { column: string }) => `column "${p.column}" (plain text, every token trained)`,
  'problem.noColumn': (p: { part: DatasetPart }) => `no column is mapped to ${DATASET_PARTS[p.part]}`,
  'problem.isMissing': 'is missing',
  'problem.isNull': 'is null',
  'problem.isEmpty': 'is empty',
  'problem.isKind': (p: { kind: ValueKind }) => `is ${VALUE_KINDS[p.kind]}`,
  'problem.emptyList': 'is an empty list',
  'problem.noAssistant': 'has no assistant message: nothing to train on',
  'problem.unknownRole': (p: { role: string }) => `unknown role "${p.role}"`,
  'problem.malformedJson': (p: { detail: string }) => `malformed JSON: ${p.detail}`,
  'problem.jsonSyntax': (p: { reason: JsonSyntaxReason; character: number }) =>
    `malformed JSON at character ${p.character}: ${JSON_SYNTAX[p.reason]}`,
  'dataset.unknownType': (p: { file: string; ext: string }) =>
    `${p.file}: unknown dataset file type "${p.ext || '(none)'}" (expected .jsonl, .json, .csv, .tsv or .parquet)`,
  'dataset.cannotOpen': (p: { path: string; code: string }) => `cannot open ${p.path}: ${p.code}`,
  'dataset.notAFile': (p: { path: string }) => `${p.path} is not a file`,
  'dataset.bom': (p: { file: string; encoding: string }) =>
    `${p.file} is encoded as ${p.encoding}, as its byte-order mark says; save it as UTF-8 and import it again`,
  'dataset.notUtf8': (p: { file: string }) => `${p.file}: not valid UTF-8 text`,
  'dataset.notUtf8At': (p: { file: string; line: number; byte: number; hex: string }) =>
    `${p.file}: line ${p.line}, byte ${p.byte} (0x${p.hex}) is not valid UTF-8; the file is probably in another encoding (Latin-1 / Windows-1252?): save it as UTF-8 and import it again`,
  'dataset.jsonInvalid': (p: { file: string; reason: JsonSyntaxReason; line: number; character: number }) =>
    `${p.file} is not valid JSON at line ${p.line}, character ${p.character}: ${JSON_SYNTAX[p.reason]}`,
  'dataset.jsonInvalidDetail': (p: { file: string; detail: string }) => `${p.file} is not valid JSON: ${p.detail}`,
  'dataset.jsonLooksJsonl': (p: { file: string }) =>
    `${p.file} is not valid JSON, but each line is a JSON object: it looks like JSON Lines: rename it to .jsonl`,
  'dataset.jsonArrays': (p: { file: string; keys: string }) =>
    `${p.file}: expected a JSON array of rows (or an object with exactly one array of rows), found an object with keys ${p.keys}`,
  'dataset.jsonNotArray': (p: { file: string; kind: ValueKind }) => `${p.file}: expected a JSON array of rows, found ${VALUE_KINDS[p.kind]}`,
  'dataset.headerEmptyName': (p: { file: string; line: number }) => `${p.file}: line ${p.line}: the header has an empty column name`,
  'dataset.headerTwice': (p: { file: string; line: number; name: string }) =>
    `${p.file}: line ${p.line}: the header names column "${p.name}" twice`,
  'dataset.csvEmpty': (p: { file: string }) => `${p.file} is empty: expected a header line with column names`,
  'dataset.parquetUnreadable': (p: { file: string; detail: string }) => `${p.file} is not a readable Parquet file: ${p.detail}`,
  'dataset.parquetRows': (p: { file: string; from: number; to: number; detail: string }) =>
    `${p.file}: cannot read rows ${p.from}–${p.to}: ${p.detail}`,
  // a bad row as the import's 'stop' says it: formats/dataset/problems.ts formatProblem writes it this way too
  'dataset.problem': (p: { file: string; line: number; row: number; field: string; problem: string; expected: string } & Nested) =>
    `${p.line ? `${p.file}:${p.line} (row ${p.row})` : `${p.file} row ${p.row}`}${p.field ? `, field "${p.field}"` : ''}: ${p.problem}${p.expected ? ` (expected: ${p.expected})` : ''}`,
  'dataset.noUsableRows': (p: { file: string; problems: number; first: string } & Nested) =>
    `${p.file}: no usable rows (${countOf(p.problems, 'problem')}${p.first ? `; the first: ${p.first}` : ''})`,
  'dataset.noReadableRows': (p: { file: string }) => `${p.file} has no readable rows`,
  'dataset.mappingMissing': (p: { file: string; missing: string; has: string }) =>
    `${p.file}: the mapping names column(s) ${p.missing}, which the file does not have (it has ${p.has})`,
  'dataset.formatUnknown': (p: { file: string; columns: string }) =>
    `${p.file ? `${p.file}: ` : ''}cannot tell the dataset's format from its columns (${p.columns || 'none'}): expected "messages" (chat), ` +
    `"prompt" + "completion", "instruction" + "output" (alpaca) or "text"; map the columns yourself`,
  'dataset.chatNotList': (p: { file: string; column: string; found: string }) =>
    `${p.file ? `${p.file}: ` : ''}no row is usable: column "${p.column}" must hold a list of messages ({"role": …, "content": …}) but holds ${p.found || 'nothing'}`,
  'problem.jsonSyntaxNoColumn': (p: { reason: JsonSyntaxReason }) => `malformed JSON: ${JSON_SYNTAX[p.reason]}`,
  'problem.lineHolds': (p: { kind: ValueKind }) => `the line holds ${VALUE_KINDS[p.kind]}`,
  'problem.lineNestsDeep': (p: { levels: number }) => `the line nests arrays/objects more than ${p.levels} levels deep`,
  'problem.elementIs': (p: { element: number; kind: ValueKind }) => `element ${p.element} is ${VALUE_KINDS[p.kind]}`,
  'problem.elementNestsDeep': (p: { element: number; levels: number }) =>
    `element ${p.element} nests arrays/objects more than ${p.levels} levels deep`,
  'problem.fieldCount': (p: { count: number }) => `the row has ${p.count} fields`,
  'problem.unclosedQuote': 'a quoted field is never closed',
  'expected.jsonPerLine': 'one JSON object per line',
  'expected.jsonObject': 'a JSON object',
  'expected.flatRecordChat': 'a flat record of text fields (chat messages nest 3 levels)',
  'expected.flatRecord': 'a flat record of text fields',
  'expected.quotedFieldEnd': 'a quoted field to end right before a separator or the line end',
  'expected.fieldCount': (p: { count: number; names: string }) => `${p.count} fields (${p.names})`,
  'expected.closingQuote': 'a closing " before the end of the file',
  'expected.partAsString': (p: { part: DatasetPart }) => `the ${DATASET_PARTS[p.part]} as a string`,
  'expected.nonEmptyPart': (p: { part: DatasetPart }) => `a non-empty ${DATASET_PARTS[p.part]}`,
  'expected.messageList': 'a list of messages',
  'expected.messageListLikePrompt': 'a list of messages, like the prompt',
  'expected.userAndAssistant': 'at least one user and one assistant message',
  'expected.assistant': 'at least one assistant message',
  'expected.messageObject': (p: { roleKey: string; contentKey: string }) =>
    `a message object with "${p.roleKey}" and "${p.contentKey}"`,
  'expected.roleName': 'a role name',
  'expected.oneOf': (p: { choices: string }) => `one of ${p.choices}`,
  'expected.messageText': 'the message text as a string',
  'expected.nonEmptyMessage': 'a non-empty message',

  // ── a stored record this version cannot read (system.unreadable, the lists' warning) ─────────────────────
  'unreadable.stale': (p: {
    kind: 'model' | 'dataset' | 'run';
    id: string;
    field: string;
    expected: StaleExpected;
    choices: string;
    found: StaleFound;
  }) =>
    `${STALE_RECORD[p.kind]} ${p.id}: its stored ${STALE_PART[p.kind]} no longer validates: ${p.field ? `field "${p.field}"` : 'the record'} should be ${p.expected === 'choice' && p.choices ? `one of ${p.choices}` : STALE_EXPECTED[p.expected]}, but it is ${STALE_FOUND[p.found]}`,

  // ── an encoder task's rows left out (taskData.inspect, train --task): classification ─────────────────
  'taskProblem.textMissing': (p: { value: string }) => `missing or not text (${p.value})`,
  'taskProblem.textEmpty': 'empty text',
  'taskProblem.pairMissing': 'missing or empty second text',
  'taskProblem.noLabel': (p: { value: string }) => `no usable label (${p.value})`,
  'taskProblem.negativeLabel': (p: { label: number }) =>
    `label ${p.label} is negative (GLUE test files mark unlabelled rows with -1)`,
  'taskProblem.labelNotNumber': (p: { label: string }) => `label "${p.label}" is not a number, but this is a regression dataset`,
  'taskProblem.unknownLabel': (p: { label: string; from: 'training' | 'setting' | 'labels' }) =>
    `label ${p.label} is not one of ${p.from === 'training' ? 'the training split' : p.from === 'setting' ? 'classification.labels' : 'the labels'}`,
  'taskExpected.text': 'the text to classify',
  'taskExpected.pair': 'the second text of the pair',
  'taskExpected.label': 'a label name, a class number or (regression) a number',
  'taskExpected.classFromZero': 'a class number from 0, or a label name',
  'taskExpected.number': 'a number',
  'taskExpected.knownLabel': (p: { known: string; count: number }) => `one of ${p.known} (or a class number below ${p.count})`,
  // ── question answering ───────────────────────────────────────────────────────────────────────────
  'taskProblem.noContext': (p: { value: string }) => `missing or empty context (${p.value})`,
  'taskProblem.noQuestion': (p: { value: string }) => `missing or empty question (${p.value})`,
  'taskProblem.noId': (p: { value: string }) => `no usable id (${p.value})`,
  'taskProblem.idRepeated': (p: { id: string }) => `id "${p.id}" is used by an earlier question too`,
  'taskProblem.answersNotJson': (p: { value: string }) => `answers is text that is not JSON: ${p.value}`,
  'taskProblem.answersIs': (p: { value: string }) => `answers is ${p.value}`,
  'taskProblem.answersLists': 'answers needs the lists "text" and "answer_start"',
  'taskProblem.answersCounts': (p: { texts: number; starts: number }) =>
    `answers has ${p.texts} texts but ${p.starts} answer_start values`,
  'taskProblem.answerText': (p: { value: string }) => `answer text is ${p.value}`,
  'taskProblem.answerStart': (p: { value: string }) => `answer_start is ${p.value}`,
  'taskProblem.answerNotAt': (p: { answer: string; start: number; there: string; found: number }) =>
    `answer "${p.answer}" is not in the context at answer_start ${p.start} (the context has "${p.there}" there; ${p.found < 0 ? 'the text does not occur in the context at all' : `the text occurs at ${p.found}`})`,
  'taskProblem.impossible': 'the question is marked is_impossible (SQuAD v2)',
  'taskProblem.noAnswer': 'the question has no answer',
  'taskExpected.context': 'the text the answer is found in',
  'taskExpected.question': 'the question text',
  'taskExpected.id': 'a string id per question',
  'taskExpected.distinctId': 'a distinct id per question',
  'taskExpected.answers': 'answers as {"text": [...], "answer_start": [...]}',
  'taskExpected.answerText': 'the answer as a non-empty string',
  'taskExpected.answerStart': 'the character index where the answer begins in the context',
  'taskExpected.answerAt':
    'answer_start = the index of the answer’s first character in the context (counting characters from 0); fix answer_start or the text',
  'taskExpected.anAnswer':
    'at least one answer; for SQuAD v2 data with unanswerable questions set question_answering.version_2_with_negative',

  // ── a prompt template that cannot render a row (the previewer, the wizard's template step, a run's start) ─────
  'template.unclosedBrace': (p: { at: number }) =>
    `prompt template: "{" at character ${p.at} is never closed (write "{{" for a literal brace)`,
  'template.badName': (p: { name: string; at: number }) =>
    `prompt template: "{${p.name}}" at character ${p.at} is not a placeholder name (letters, digits, _ . -)`,
  'template.strayBrace': (p: { at: number }) =>
    `prompt template: "}" at character ${p.at} has no opening "{" (write "}}" for a literal brace)`,
  'template.noPlaceholder': 'prompt template has no {placeholder}: it would render the same text for every row',
  'template.noTarget': (p: { target: string; have: string }) =>
    `prompt template has no {${p.target}} placeholder to train on (it has ${p.have})`,
  'template.noColumn': (p: { placeholder: string; column: string; columns: string }) =>
    `placeholder {${p.placeholder}} reads column "${p.column}", which this row does not have (columns: ${p.columns || 'none'})`,

  // ── the previewer: why a rendered row trains less than it shows ───────────────────────────────────────
  'render.noAssistant': 'the conversation has no assistant turn: nothing to train on',
  'render.turnRewritten': (p: { message: number }) =>
    `the chat template renders the conversation up to message ${p.message} differently from the whole conversation (it rewrites earlier turns); assistant message ${p.message} is not trained`,
  'render.boundaryMoved': (p: { at: number; excerpt: string; token: number }) =>
    `a token crosses the boundary at character ${p.at} ("${p.excerpt}"): the boundary moved to token ${p.token}`,
  'render.nothingLeft': (p: { length: number }) =>
    `truncated to ${p.length} tokens, no trained token is left: the example teaches nothing`,
} satisfies Record<string, string | ((params: never) => string)>;

export type PhraseCode = keyof typeof PHRASES;
export type PhraseParams<C extends PhraseCode> = (typeof PHRASES)[C] extends (params: infer P) => string
  ? P
  : Record<string, never>;

/** A sentence as the core sends it: the English text and its phrase. */
export interface Said {
  message: string;
  phrase: Phrase;
}

/** The English sentence and its phrase, for a message the core sends. */
export function say<C extends PhraseCode>(
  code: C,
  ...params: PhraseParams<C> extends Record<string, never> ? [] : [PhraseParams<C>]
): Said {
  const entry = PHRASES[code] as string | ((p: unknown) => string);
  const values = (params[0] ?? {}) as Record<string, string | number>;
  return { message: typeof entry === 'string' ? entry : entry(values), phrase: { code, params: values } };
}
