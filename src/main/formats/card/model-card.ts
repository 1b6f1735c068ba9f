// The model card (README.md) of a published adapter, merged model or GGUF: the YAML header the Hub reads
// (base_model, library_name, pipeline_tag, tags, license, datasets), then what was trained and how, the
// measured results, the loss curve (an image beside the card) and how to load it. Written only from
// ModelCardFacts, which the studio recorded: a fact it does not know is left out, never filled in.
import { stringify as toYaml } from 'yaml';
import type { ModelCardFacts, PublishKind } from '../../../common/api/hub.ts';

export const CARD_FILE = 'README.md';

export interface CardTarget {
  kind: PublishKind;
  /** The heading: the repo or folder name. */
  title: string;
  /** Where a user loads it from: the Hub repo id, or the local folder / file path. */
  location: string;
  onHub: boolean;
  /** GGUF: the file name in the repo or folder, its quantization, and whether it is a LoRA adapter GGUF. */
  gguf?: { file: string; quant: string | null; adapter: boolean };
  /** The loss-curve image beside the card, when one was drawn. */
  lossCurveFile?: string | null;
  /** GGUF exports: the Modelfile beside it and the `ollama create` command. */
  ollama?: { modelfile: string; create: string } | null;
}

/** transformers' head classes by the Hub task they serve; the architecture's name ends with the head. */
const TASKS: { suffix: string; pipeline: string; auto: string }[] = [
  { suffix: 'ForCausalLM', pipeline: 'text-generation', auto: 'AutoModelForCausalLM' },
  { suffix: 'ForSequenceClassification', pipeline: 'text-classification', auto: 'AutoModelForSequenceClassification' },
  { suffix: 'ForQuestionAnswering', pipeline: 'question-answering', auto: 'AutoModelForQuestionAnswering' },
  { suffix: 'ForTokenClassification', pipeline: 'token-classification', auto: 'AutoModelForTokenClassification' },
];

/** The task of the model: from its architecture's head; a GGUF is a llama.cpp generative model; unknown → null. */
export function taskOf(architecture: string | null, kind: PublishKind): (typeof TASKS)[number] | null {
  if (architecture) return TASKS.find((t) => architecture.endsWith(t.suffix)) ?? null;
  return kind === 'gguf' ? TASKS[0]! : null;
}

/** The YAML header as an object (what the Hub parses). */
export function cardMetadata(facts: ModelCardFacts, target: CardTarget): Record<string, unknown> {
  const meta: Record<string, unknown> = {};
  if (facts.baseModelHubId) meta.base_model = facts.baseModelHubId;
  if (target.kind === 'adapter') meta.library_name = 'peft';
  else if (target.kind === 'model') meta.library_name = 'transformers';
  const task = taskOf(facts.architecture, target.kind);
  if (task) meta.pipeline_tag = task.pipeline;
  const tags = ['lora-studio'];
  if (facts.method) tags.push(facts.method);
  if (target.kind === 'adapter') tags.push('peft');
  if (target.kind === 'gguf') tags.push('gguf');
  if (facts.baseModelHubId && target.kind === 'adapter') tags.push(`base_model:adapter:${facts.baseModelHubId}`);
  meta.tags = tags;
  if (facts.license) meta.license = facts.license;
  if (facts.dataset?.hubId) meta.datasets = [facts.dataset.hubId];
  return meta;
}

const num = (v: number) => (Number.isInteger(v) ? v.toLocaleString('en-US') : Number(v.toPrecision(4)).toString());
const sci = (v: number) => (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5) ? v.toExponential() : String(v));

function duration(seconds: number): string {
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${s % 60} s` : `${s} s`;
}

function baseLink(facts: ModelCardFacts): string | null {
  if (facts.baseModelHubId) return `[${facts.baseModelHubId}](https://huggingface.co/${facts.baseModelHubId})`;
  return facts.baseModelName ? `\`${facts.baseModelName}\`` : null;
}

export function renderModelCard(facts: ModelCardFacts, target: CardTarget): string {
  const out: string[] = ['---', toYaml(cardMetadata(facts, target)).trimEnd(), '---', '', `# ${target.title}`, ''];
  const base = baseLink(facts);
  const what =
    target.kind === 'adapter'
      ? `A ${facts.method === 'qlora' ? 'QLoRA' : 'LoRA'} adapter (PEFT format)`
      : target.kind === 'model'
        ? `A fine-tuned model (${facts.method === 'full' ? 'fully fine-tuned, ' : facts.method ? 'the adapter merged into its base, ' : ''}Hugging Face format)`
        : target.gguf?.adapter
          ? `A LoRA adapter as a llama.cpp GGUF (${target.gguf.quant ?? 'unknown type'})`
          : `A fine-tuned model as one GGUF file${target.gguf?.quant ? ` (${target.gguf.quant})` : ''}, for llama.cpp, Ollama and LM Studio`;
  out.push(`${what}${base ? ` trained on ${base}` : ''} with LoRA Studio ${facts.studioVersion}.`, '');

  // What was trained and how.
  const rows: [string, string][] = [];
  if (facts.architecture) rows.push(['Architecture', facts.architecture]);
  if (facts.method)
    rows.push(['Method', { lora: 'LoRA', qlora: 'QLoRA (4-bit NF4 base)', full: 'full fine-tuning' }[facts.method]]);
  if (facts.lora) {
    rows.push([
      'LoRA rank (r) / alpha',
      `${facts.lora.r} / ${facts.lora.alpha}${facts.lora.rslora ? ' (rsLoRA: scale alpha/√r)' : ''}`,
    ]);
    if (facts.lora.dropout !== null) rows.push(['LoRA dropout', String(facts.lora.dropout)]);
    if (facts.lora.targetModules.length > 0)
      rows.push(['Target modules', facts.lora.targetModules.map((m) => `\`${m}\``).join(', ')]);
  }
  const t = facts.training;
  if (t) {
    if (t.maxSteps !== null) rows.push(['Max steps', num(t.maxSteps)]);
    else if (t.epochs !== null) rows.push(['Epochs', num(t.epochs)]);
    if (t.steps !== null) rows.push(['Optimizer steps done', num(t.steps)]);
    rows.push(['Learning rate', `${sci(t.learningRate)}, ${t.scheduler} schedule`]);
    if (t.warmupSteps) rows.push(['Warm-up', `${t.warmupSteps} steps`]);
    else if (t.warmupRatio !== null) rows.push(['Warm-up', `${t.warmupRatio * 100}% of the steps`]);
    rows.push([
      'Batch',
      `${t.microBatchSize} × ${t.gradientAccumulationSteps} gradient accumulation = ${t.microBatchSize * t.gradientAccumulationSteps}`,
    ]);
    rows.push(['Max sequence length', `${num(t.maxSeqLength)} tokens`]);
    if (t.template) rows.push(['Template', t.template]);
    rows.push(['Seed', String(t.seed)]);
    if (t.seconds !== null) rows.push(['Training time', duration(t.seconds)]);
    if (t.tokens !== null) rows.push(['Tokens trained on', num(t.tokens)]);
    if (t.trainLoss !== null) rows.push(['Final training loss', t.trainLoss.toFixed(4)]);
    if (t.evalLoss !== null) rows.push(['Final evaluation loss', t.evalLoss.toFixed(4)]);
  }
  const d = facts.dataset;
  if (d) {
    const name = d.hubId ? `[${d.hubId}](https://huggingface.co/datasets/${d.hubId})` : `\`${d.name}\``;
    rows.push(['Dataset', `${name}${d.examples !== null ? `, ${num(d.examples)} examples` : ''}`]);
    if (d.hash) rows.push(['Dataset content hash (sha256)', `\`${d.hash}\``]);
  }
  if (rows.length > 0) {
    out.push(
      '## Training',
      '',
      '| | |',
      '| --- | --- |',
      ...rows.map(([k, v]) => `| ${k} | ${v.replace(/\|/g, '\\|')} |`),
      '',
    );
  }

  const e = facts.evaluation;
  if (e && (e.basePerplexity !== null || e.tunedPerplexity !== null)) {
    out.push(
      '## Evaluation',
      '',
      `Perplexity on ${num(e.examples)} held-out examples (lower is better):`,
      '',
      '| | perplexity |',
      '| --- | --- |',
    );
    if (e.basePerplexity !== null) out.push(`| base model | ${e.basePerplexity.toFixed(3)} |`);
    if (e.tunedPerplexity !== null) out.push(`| fine-tuned | ${e.tunedPerplexity.toFixed(3)} |`);
    out.push('');
  }

  if (target.lossCurveFile) out.push('## Loss curve', '', `![Training loss by step](${target.lossCurveFile})`, '');

  out.push('## How to use', '', ...usage(facts, target), '');
  return out.join('\n');
}

function usage(facts: ModelCardFacts, target: CardTarget): string[] {
  const loc = target.location;
  const baseId = facts.baseModelHubId ?? facts.baseModelName;
  // Without a known head, the causal-LM class is what the studio trains by default.
  const auto = taskOf(facts.architecture, target.kind)?.auto ?? 'AutoModelForCausalLM';
  if (target.kind === 'adapter') {
    const lines = [
      'With [PEFT](https://github.com/huggingface/peft) on top of the base model:',
      '',
      '```python',
      'from peft import PeftModel',
      `from transformers import ${auto}, AutoTokenizer`,
      '',
      `base = ${auto}.from_pretrained(${JSON.stringify(baseId ?? '<the base model>')})`,
      `tokenizer = AutoTokenizer.from_pretrained(${JSON.stringify(baseId ?? '<the base model>')})`,
      `model = PeftModel.from_pretrained(base, ${JSON.stringify(loc)})`,
      '```',
      '',
      'With llama.cpp: export the adapter as a LoRA GGUF (LoRA Studio: Exports → LoRA GGUF) and pass it with `--lora` next to the base model’s GGUF: `llama-cli -m base.gguf --lora adapter.gguf`.',
    ];
    return lines;
  }
  if (target.kind === 'model') {
    return [
      'With [transformers](https://github.com/huggingface/transformers):',
      '',
      '```python',
      `from transformers import ${auto}, AutoTokenizer`,
      '',
      `model = ${auto}.from_pretrained(${JSON.stringify(loc)})`,
      `tokenizer = AutoTokenizer.from_pretrained(${JSON.stringify(loc)})`,
      '```',
      '',
      'For llama.cpp, Ollama or LM Studio, convert it with llama.cpp’s `convert_hf_to_gguf.py`, or export a GGUF from LoRA Studio.',
    ];
  }
  const g = target.gguf!;
  if (g.adapter) {
    return [`With llama.cpp, next to the base model’s GGUF: \`llama-cli -m base.gguf --lora ${g.file}\`.`];
  }
  const lines: string[] = [];
  if (target.onHub) {
    const tag = g.quant ? `:${g.quant}` : '';
    lines.push(
      'With [Ollama](https://ollama.com):',
      '',
      '```sh',
      `ollama run hf.co/${loc}${tag}`,
      '```',
      '',
      'With llama.cpp:',
      '',
      '```sh',
      `llama-cli -hf ${loc}${tag}`,
      '```',
      '',
      `In LM Studio, search for \`${loc}\` and pick \`${g.file}\` (one file per quantization, named by it).`,
    );
  } else {
    lines.push('With llama.cpp:', '', '```sh', `llama-cli -m ${g.file}`, '```');
  }
  if (target.ollama) {
    lines.push(
      '',
      `With Ollama from this folder (the Modelfile \`${target.ollama.modelfile}\` sets the stop strings and sampling defaults):`,
      '',
      '```sh',
      target.ollama.create,
      '```',
    );
  }
  return lines;
}
