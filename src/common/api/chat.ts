// Chat: conversations with a model, answered in one or more panes side by side (say the base model and the
// base + a fine-tuned adapter), streamed token by token. A session records the model, its panes (each pane's
// adapters with their weights) and the sampling settings; its messages are kept in the store. Each user message
// starts a `generate` job that answers every pane from one loaded base model; the text streams as `chat.delta`
// events and each finished answer is saved and announced with `chat.done`.
import { z } from 'zod';

export const SamplingSettings = z
  .object({
    temperature: z.number().min(0).max(5).default(0.7).describe('Randomness: 0 always picks the most likely word; higher is more varied (and more erratic).'),
    topK: z.number().int().min(0).max(100_000).default(50).describe('Only the K most likely next tokens are considered (0 = no limit).'),
    topP: z.number().gt(0).max(1).default(0.9).describe('Only the most likely tokens that together reach this probability are considered (1 = no limit).'),
    repetitionPenalty: z.number().gt(0).max(10).default(1.1).describe('Above 1 discourages repeating words already in the conversation.'),
    maxNewTokens: z.number().int().min(1).max(8192).default(256).describe('The longest answer, in tokens.'),
    seed: z.number().int().min(0).max(2 ** 32 - 1).default(0).describe('The same seed and settings give the same answer.'),
    stop: z.array(z.string().min(1)).max(16).default([]).describe('The answer ends before any of these texts.'),
  })
  .strict()
  .describe('How answers are generated.');
export type SamplingSettings = z.infer<typeof SamplingSettings>;

/** Some sampling settings to change, the rest kept (no defaults: a missing field means "as it was"). */
export const SamplingOverrides = z
  .object(Object.fromEntries(Object.entries(SamplingSettings.shape).map(([k, v]) => [k, v.unwrap().optional()])) as {
    [K in keyof typeof SamplingSettings.shape]: z.ZodOptional<ReturnType<(typeof SamplingSettings.shape)[K]['unwrap']>>;
  })
  .strict();

export const AdapterRef = z.object({
  path: z.string().min(1).describe('A PEFT adapter folder (adapter_config.json + adapter_model.safetensors).'),
  weight: z.number().min(-10).max(10).default(1).describe('Scale of the adapter: 0 = off, 1 = as trained.'),
  name: z.string().min(1).optional(),
}).strict();
export type AdapterRef = z.infer<typeof AdapterRef>;

/** GGUF types a "what you will ship" pane can answer with (the export's own types, Ollama's and LM Studio's defaults). */
export const ShipQuant = z
  .enum(['f16', 'q8_0', 'q6_k', 'q5_k_m', 'q4_k_m', 'q4_0'])
  .describe('Answer with the exported GGUF at this quantization (adapters merged in), through llama.cpp: what you will ship.');
export type ShipQuant = z.infer<typeof ShipQuant>;

export const ChatPane = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, 'letters, digits, _ or -, at most 40'),
  label: z.string().min(1).max(80),
  adapters: z.array(AdapterRef).max(8).default([]).describe('Adapters attached in this pane (none = the base model).'),
  ship: ShipQuant.optional(),
}).strict();
export type ChatPane = z.infer<typeof ChatPane>;

export const BaseQuant = z
  .enum(['none', 'nf4', 'nf4-double'])
  .default('none')
  .describe('Hold the base model in 4 bits (NF4, as QLoRA trains it; "nf4-double" also quantizes the scales): about 4× less memory, slightly different answers.');

/**
 * Which engine answers: the studio's own (the reference, and the only one for an NF4 base), llama.cpp on the model
 * converted to GGUF by our writer (adapters as LoRA GGUFs), or `auto`: llama.cpp where it loads and can hold the
 * model and adapters, else the studio's.
 */
export const GenerationBackend = z
  .enum(['auto', 'studio', 'llama.cpp'])
  .default('auto')
  .describe("Engine that answers: auto (llama.cpp where it can, else the studio's), studio, or llama.cpp.");
export type GenerationBackend = z.infer<typeof GenerationBackend>;

export const ChatRole = z.enum(['system', 'user', 'assistant']);

export const ChatSession = z.object({
  id: z.string(),
  projectId: z.string(),
  title: z.string(),
  model: z.string(),
  quant: BaseQuant,
  backend: GenerationBackend,
  panes: z.array(ChatPane),
  sampling: SamplingSettings,
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type ChatSession = z.infer<typeof ChatSession>;

/** What an assistant message was answered with, kept with it (later changes to the panes do not re-label it). */
export const AnsweredWith = z.object({ model: z.string(), adapters: z.array(AdapterRef) });
export type AnsweredWith = z.infer<typeof AnsweredWith>;

export const ChatMessage = z.object({
  id: z.number().int(),
  sessionId: z.string(),
  role: ChatRole,
  content: z.string(),
  /** The pane an assistant message answers in; null for messages every pane shares (user, system). */
  pane: z.string().nullable(),
  /** The base model and adapters (with their scales) an assistant message was answered with; null otherwise. */
  answeredWith: AnsweredWith.nullable(),
  meta: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

const uniquePanes = (panes: ChatPane[]) => new Set(panes.map((p) => p.id)).size === panes.length;
const Panes = z.array(ChatPane).min(1).max(4).refine(uniquePanes, 'pane ids must be unique');

export const chatMethods = {
  'chat.create': {
    input: z.object({
      projectId: z.string().min(1),
      title: z.string().min(1).max(200).optional(),
      model: z.string().min(1).describe('The base model folder.'),
      quant: BaseQuant,
      backend: GenerationBackend,
      panes: Panes.default([{ id: 'base', label: 'Base', adapters: [] }]),
      sampling: SamplingSettings.prefault({}),
      system: z.string().min(1).optional().describe('A system message that opens the conversation.'),
    }),
    output: ChatSession,
    doc: 'Start a conversation with a model, answered in one or more panes (e.g. base and tuned side by side).',
  },
  'chat.list': { input: z.object({ projectId: z.string().min(1) }), output: z.array(ChatSession), doc: "A project's conversations, latest first." },
  'chat.get': {
    input: z.object({ id: z.string().min(1) }),
    output: z.object({ session: ChatSession, messages: z.array(ChatMessage) }),
    doc: 'A conversation and its messages.',
  },
  'chat.update': {
    input: z.object({
      id: z.string().min(1),
      sampling: SamplingOverrides.optional().describe('Settings to keep with the conversation (the rest stay).'),
    }),
    output: ChatSession,
    doc: "Change a conversation's sampling settings without sending (they are its own, restored when it is reopened).",
  },
  'chat.send': {
    input: z.object({
      sessionId: z.string().min(1),
      content: z.string().min(1),
      /** This turn's settings; they also become the session's (the UI's sliders). */
      sampling: SamplingOverrides.optional(),
      panes: Panes.optional(),
    }),
    output: z.object({ message: ChatMessage, jobId: z.string() }),
    doc: 'Add a user message and answer it in every pane; answers stream as chat.delta events and end with chat.done.',
  },
};

export const chatEvents = {
  'chat.delta': z.object({ sessionId: z.string(), jobId: z.string(), pane: z.string(), delta: z.string() }),
  'chat.done': z.object({
    sessionId: z.string(),
    jobId: z.string(),
    pane: z.string(),
    message: ChatMessage.nullable(),
    finishReason: z.enum(['eos', 'stop', 'length', 'cancelled', 'failed']),
    error: z.string().nullable(),
  }),
};

// ---------------------------------------------------------------------------------------------------------
// The `generate` job: what the core sends the worker and what comes back (both import these).

export const GENERATE_JOB_KIND = 'generate';

export const GenerateJobParams = z.object({
  model: z.string().min(1),
  quant: BaseQuant,
  backend: GenerationBackend,
  /** llama.cpp's base GGUF type: f16 (half the memory) or f32 (logits equal to the engine's to float rounding). */
  baseGguf: z.enum(['f32', 'f16']).default('f16'),
  panes: z
    .array(
      z.object({
        id: z.string().min(1),
        adapters: z.array(AdapterRef).default([]),
        ship: ShipQuant.optional(),
        messages: z.array(z.object({ role: z.string().min(1), content: z.string() })).min(1),
      }),
    )
    .min(1),
  sampling: SamplingSettings,
  threads: z.number().int().min(1).optional(),
});
export type GenerateJobParams = z.infer<typeof GenerateJobParams>;

/** Generate jobs run in a resident worker keyed by what it loads, so the next turn finds the model still open. */
export function generateResidency(params: GenerateJobParams): { key: string } {
  return { key: JSON.stringify([params.model, params.quant, params.threads ?? null, params.backend, params.baseGguf]) };
}

export const FinishReason = z.enum(['eos', 'stop', 'length', 'cancelled']);

export const GenerateAnswer = z.object({
  pane: z.string(),
  text: z.string(),
  finishReason: FinishReason,
  tokens: z.number().int(),
  promptTokens: z.number().int(),
  decodeTokensPerSecond: z.number(),
  adapters: z.array(z.string()),
  /** The engine that answered (auto resolved). */
  backend: z.enum(['studio', 'llama.cpp']).optional(),
});
export type GenerateAnswer = z.infer<typeof GenerateAnswer>;

export const GenerateJobResult = z.object({ answers: z.array(GenerateAnswer) });
export type GenerateJobResult = z.infer<typeof GenerateJobResult>;

/** What the job streams while it runs (JobContext.output): a pane's text delta, or its finished answer. */
export const GenerateJobOutput = z.discriminatedUnion('type', [
  z.object({ type: z.literal('delta'), pane: z.string(), delta: z.string() }),
  z.object({ type: z.literal('answer'), answer: GenerateAnswer }),
]);
export type GenerateJobOutput = z.infer<typeof GenerateJobOutput>;
