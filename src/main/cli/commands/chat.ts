// `lora-studio chat`: talk to a model, with or without adapters. `--prompt` answers one message and exits;
// without it, an interactive loop reads messages from stdin (/reset forgets the conversation, /exit or EOF ends).
// `--compare` answers each message twice, base and with the adapters, as the app's side-by-side chat does.
// Each message is answered by a `generate` job in a worker (the CLI never loads the engine itself); the text
// streams to stdout as it is produced.
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  GENERATE_JOB_KIND,
  GenerateJobOutput,
  GenerateJobResult,
  GenerationBackend,
  SamplingSettings,
  ShipQuant,
  generateResidency,
  type AdapterRef,
  type GenerateAnswer,
  type GenerateJobParams,
} from '../../../common/api/chat.ts';
import { StudioError, type StudioCore } from '../../core/index.ts';
import { say } from '../../../common/api/phrases.ts';
import { isFusionFolder } from '../../formats/fusion/index.ts';
import { printJson, withCore } from '../context.ts';
import { isStrictNumber } from '../numbers.ts';

interface ChatFlags {
  model: string;
  adapter: string[];
  scale: string[];
  compare?: boolean;
  prompt?: string;
  system?: string;
  temperature?: string;
  topK?: string;
  topP?: string;
  repetitionPenalty?: string;
  maxNewTokens?: string;
  seed?: string;
  stop: string[];
  threads?: string;
  loadIn4bit?: boolean;
  doubleQuant?: boolean;
  backend?: string;
  ship?: string;
  json?: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

function number(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!isStrictNumber(value)) throw new StudioError('invalid_input', `--${flag}: expected a number, got "${value}"`);
  return Number(value);
}

/** The sampling settings from the flags (defaults for the rest), validated with the API's own schema. */
export function samplingFromFlags(f: ChatFlags): SamplingSettings {
  const raw = {
    temperature: number('temperature', f.temperature),
    topK: number('top-k', f.topK),
    topP: number('top-p', f.topP),
    repetitionPenalty: number('repetition-penalty', f.repetitionPenalty),
    maxNewTokens: number('max-new-tokens', f.maxNewTokens),
    seed: number('seed', f.seed),
    stop: f.stop.length ? f.stop : undefined,
  };
  const parsed = SamplingSettings.safeParse(Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const flag = String(issue.path[0] ?? '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    throw new StudioError('invalid_input', `--${flag}: ${issue.message}`);
  }
  return parsed.data;
}

/** --adapter and --scale pair up in order; an adapter without a --scale gets 1, a lone --scale applies to all. */
export function adaptersFromFlags(f: ChatFlags): AdapterRef[] {
  if (f.scale.length > Math.max(1, f.adapter.length))
    throw new StudioError(
      'invalid_input',
      `--scale given ${f.scale.length} times for ${f.adapter.length} --adapter folder(s); give one per adapter`,
    );
  if (f.scale.length && !f.adapter.length) throw new StudioError('invalid_input', '--scale needs an --adapter');
  return f.adapter.map((path, i) => {
    const weight = number('scale', f.scale.length === 1 ? f.scale[0] : f.scale[i]) ?? 1;
    return { path: resolve(path), weight, name: path };
  });
}

export interface GenerateTurn {
  answers: GenerateAnswer[];
  status: string;
  error: string | null;
}

/**
 * Runs one `generate` job in a worker and waits for it (Ctrl-C cancels it); `onDelta` gets each pane's text as it
 * streams. For CLI commands that answer prompts (chat, demo).
 */
export async function generateInWorker(
  core: StudioCore,
  params: GenerateJobParams,
  onDelta?: (pane: string, delta: string) => void,
): Promise<GenerateTurn> {
  const job = core.jobs.start(GENERATE_JOB_KIND, params, {
    resident: generateResidency(params), // the next prompt of an interactive chat finds the model loaded
    hooks: {
      onOutput: (_job, data) => {
        const o = GenerateJobOutput.safeParse(data);
        if (o.success && o.data.type === 'delta') onDelta?.(o.data.pane, o.data.delta);
      },
    },
  });
  const onSigint = () => void core.jobs.cancel(job.id);
  process.on('SIGINT', onSigint);
  try {
    const ended = await core.jobs.waitFor(job.id);
    const record = core.store.jobs.get(job.id);
    const result = GenerateJobResult.safeParse(record?.result ?? null);
    return { answers: result.success ? result.data.answers : [], status: ended.status, error: ended.error };
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** One turn; the text of a single pane streams to stdout (several panes print when done). */
async function runTurn(core: StudioCore, params: GenerateJobParams, stream: boolean): Promise<GenerateTurn> {
  const turn = await generateInWorker(core, params, (_pane, delta) => {
    if (stream) process.stdout.write(delta);
  });
  if (stream) process.stdout.write('\n'); // one line per answer, even an empty one
  return turn;
}

function describeAnswer(a: GenerateAnswer): string {
  return `(${a.tokens} tokens, ${a.finishReason}, ${a.decodeTokensPerSecond.toFixed(1)} tokens/s${a.backend ? `, ${a.backend}` : ''})`;
}

/** A flag's value from an enum's options, or an error naming the flag and the choices. */
function choice<T extends string>(flag: string, options: readonly T[], value: string): T {
  if (!options.includes(value as T))
    throw new StudioError('invalid_input', `${flag}: expected one of ${options.join(', ')}, got "${value}"`);
  return value as T;
}

export function registerChat(program: Command): void {
  program
    .command('chat')
    .description('Chat with a model, with or without LoRA adapters (interactive, or one answer with --prompt)')
    .requiredOption('--model <dir>', 'base model folder')
    .option('--adapter <dir>', 'PEFT adapter folder to attach (repeat to combine several), or a fusion folder (fuse --mode attention) alone', collect, [])
    .option(
      '--scale <w>',
      'weight of the adapter at the same position (0 = off, 1 = as trained); one value applies to all',
      collect,
      [],
    )
    .option('--compare', 'answer twice: the base model, and with the adapters (side by side)')
    .option('--prompt <text>', 'answer this one message and exit')
    .option('--system <text>', 'a system message opening the conversation')
    .option('--temperature <t>', 'randomness; 0 = always the most likely token (default 0.7)')
    .option('--top-k <k>', 'consider only the k most likely tokens; 0 = off (default 50)')
    .option('--top-p <p>', 'consider the most likely tokens reaching probability p (default 0.9)')
    .option('--repetition-penalty <x>', 'above 1 discourages repeats (default 1.1)')
    .option('--max-new-tokens <n>', 'longest answer in tokens (default 256)')
    .option('--seed <n>', 'same seed, same answer (default 0)')
    .option('--stop <text>', 'end the answer before this text (repeatable)', collect, [])
    .option('--threads <n>', 'CPU threads for the model')
    .option('--load-in-4bit', 'hold the base model in 4 bits (NF4, as QLoRA trains it): about 4× less memory')
    .option('--double-quant', 'with --load-in-4bit: also quantize the NF4 scales (QLoRA double quantization)')
    .option(
      '--backend <name>',
      "engine that answers: auto (llama.cpp where it can, else the studio's), studio, llama.cpp (default auto)",
    )
    .option(
      '--ship <type>',
      `also answer with the exported GGUF at this quantization, adapters merged (${ShipQuant.options.join(', ')}): what you will ship`,
    )
    .option('--json', 'print the answers as JSON (with --prompt)')
    .action(async (flags: ChatFlags, command: Command) => {
      const sampling = samplingFromFlags(flags);
      const adapters = adaptersFromFlags(flags);
      if (flags.compare && !adapters.length)
        throw new StudioError('invalid_input', '--compare needs at least one --adapter to compare with the base');
      const threads = number('threads', flags.threads);
      if (flags.doubleQuant && !flags.loadIn4bit)
        throw new StudioError('invalid_input', '--double-quant needs --load-in-4bit');
      const quant = flags.loadIn4bit ? (flags.doubleQuant ? 'nf4-double' : 'nf4') : 'none';
      const backend = choice('--backend', GenerationBackend.unwrap().options, flags.backend ?? 'auto');
      const ship = flags.ship === undefined ? undefined : choice('--ship', ShipQuant.options, flags.ship.toLowerCase());
      const model = resolve(flags.model);
      const panes: { id: string; adapters: AdapterRef[]; ship?: ShipQuant }[] = flags.compare
        ? [
            { id: 'base', adapters: [] },
            { id: 'tuned', adapters },
          ]
        : [{ id: adapters.length ? 'tuned' : 'base', adapters }];
      if (ship) panes.push({ id: `shipped-${ship}`, adapters, ship });
      // an AdapterFusion folder (fuse --mode attention) answers alone, as trained, on the studio's engine
      const fusion = adapters.find((a) => isFusionFolder(a.path));
      if (fusion) {
        if (adapters.length > 1 || fusion.weight !== 1 || ship)
          throw new StudioError('invalid_input', say('chat.fusionAlone', { path: fusion.path }));
        if (backend === 'llama.cpp') throw new StudioError('invalid_input', say('chat.fusionLlamaCpp', { path: fusion.path }));
      }
      const history: { role: string; content: string }[] = flags.system
        ? [{ role: 'system', content: flags.system }]
        : [];
      const paneHistory = new Map(panes.map((p) => [p.id, [...history]]));

      await withCore(command, async (core) => {
        const ask = async (content: string, stream: boolean): Promise<GenerateTurn> => {
          for (const h of paneHistory.values()) h.push({ role: 'user', content });
          const params: GenerateJobParams = {
            model,
            quant,
            backend,
            baseGguf: 'f16',
            sampling,
            ...(threads ? { threads } : {}),
            panes: panes.map((p) => ({ ...p, messages: paneHistory.get(p.id)! })),
          };
          const turn = await runTurn(core, params, stream);
          if (turn.status !== 'succeeded') {
            for (const h of paneHistory.values()) h.pop();
            throw new StudioError('failed', `chat: ${turn.error ?? turn.status}`);
          }
          for (const a of turn.answers) paneHistory.get(a.pane)!.push({ role: 'assistant', content: a.text });
          return turn;
        };
        const show = (turn: GenerateTurn, streamed: boolean) => {
          for (const a of turn.answers) {
            if (!streamed) process.stdout.write(`${panes.length > 1 ? `[${a.pane}] ` : ''}${a.text}\n`);
            process.stderr.write(`${panes.length > 1 ? `[${a.pane}] ` : ''}${describeAnswer(a)}\n`);
          }
        };

        if (flags.prompt !== undefined) {
          const stream = !flags.json && panes.length === 1;
          const turn = await ask(flags.prompt, stream);
          if (flags.json) printJson({ model, sampling, answers: turn.answers });
          else show(turn, stream);
          return;
        }
        if (flags.json) throw new StudioError('invalid_input', '--json needs --prompt');
        const rl = createInterface({ input: process.stdin, terminal: false });
        const interactive = process.stdin.isTTY === true;
        if (interactive)
          process.stderr.write(
            `chatting with ${model}${adapters.length ? ` + ${adapters.map((a) => `${a.name}×${a.weight}`).join(', ')}` : ''}; /reset forgets, /exit ends\n> `,
          );
        for await (const line of rl) {
          const content = line.trim();
          if (content === '/exit' || content === '/quit') break;
          if (content === '/reset') {
            for (const h of paneHistory.values()) h.splice(history.length);
            process.stderr.write('(conversation forgotten)\n');
          } else if (content) {
            const stream = panes.length === 1;
            show(await ask(content, stream), stream);
          }
          if (interactive) process.stderr.write('> ');
        }
        rl.close();
      });
    });
}
