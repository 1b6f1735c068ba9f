// Handing a GGUF to Ollama and LM Studio. A Modelfile (Ollama's recipe: FROM the GGUF file, PARAMETER lines)
// with the stop strings of the model's chat template and the sampling defaults Chat uses; the prompt format
// itself is not written as a TEMPLATE: Ollama reads the chat template the GGUF carries
// (tokenizer.chat_template). File names carry the quantization ("<name>-Q8_0.gguf"), which is how
// `ollama run hf.co/<user>/<repo>:<quant>` and LM Studio's downloader pick a file out of a repo.
import { gguf } from '@huggingface/gguf';

export { modelfilePathFor, ollamaCreateCommand, ollamaModelName } from '../../../common/ollama.ts';

/** llama.cpp's LLAMA_FTYPE values (general.file_type) → the quantization names used in file names. */
const FILE_TYPES: Record<number, string> = {
  0: 'F32',
  1: 'F16',
  2: 'Q4_0',
  3: 'Q4_1',
  7: 'Q8_0',
  8: 'Q5_0',
  9: 'Q5_1',
  10: 'Q2_K',
  11: 'Q3_K_S',
  12: 'Q3_K_M',
  13: 'Q3_K_L',
  14: 'Q4_K_S',
  15: 'Q4_K_M',
  16: 'Q5_K_S',
  17: 'Q5_K_M',
  18: 'Q6_K',
  32: 'BF16',
};

export interface GgufFacts {
  /** "Q8_0", "F16"…; null when the file does not say (no general.file_type). */
  quant: string | null;
  /** general.type: "model", or "adapter" for a LoRA GGUF. */
  type: string;
  architecture: string | null;
}

/** Reads the quantization and kind a GGUF file declares in its metadata. */
export async function readGgufFacts(file: string): Promise<GgufFacts> {
  const { metadata } = await gguf(file, { allowLocalFile: true });
  const md = metadata as Record<string, unknown>;
  const ft = md['general.file_type'];
  const quant = typeof ft === 'number' || typeof ft === 'bigint' ? (FILE_TYPES[Number(ft)] ?? null) : null;
  const type = typeof md['general.type'] === 'string' ? (md['general.type'] as string) : 'model';
  const architecture = typeof md['general.architecture'] === 'string' ? (md['general.architecture'] as string) : null;
  return { quant, type, architecture };
}

/** "<stem>-<QUANT>.gguf", the stem cleaned to what the Hub and Ollama accept; an existing quant suffix is not doubled. */
export function ggufFileName(stem: string, quant: string | null): string {
  let clean =
    stem
      .replace(/\.gguf$/i, '')
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'model';
  if (quant) {
    clean = clean.replace(new RegExp(`[-_.]${quant.replace(/_/g, '[_-]?')}$`, 'i'), '');
    return `${clean}-${quant}.gguf`;
  }
  return `${clean}.gguf`;
}

export interface ModelfileOptions {
  /** The GGUF file as FROM names it: a path relative to the Modelfile ("./x.gguf") or absolute. */
  from: string;
  stop: string[];
  sampling: { temperature: number; topK: number; topP: number; repetitionPenalty: number };
  /** Shown in the header comment. */
  title: string;
}

/** A Modelfile string is written in double quotes; a quote or backslash inside is escaped. */
const quoted = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** The first line of every Modelfile we write: how we recognise ours before replacing one. */
export const MODELFILE_HEADER = '# Ollama Modelfile written by LoRA Studio';

export function renderModelfile(o: ModelfileOptions): string {
  const lines = [
    `${MODELFILE_HEADER} for ${o.title}.`,
    '# The prompt format comes from the chat template stored in the GGUF file.',
    `FROM ${o.from}`,
    `PARAMETER temperature ${o.sampling.temperature}`,
    `PARAMETER top_k ${o.sampling.topK}`,
    `PARAMETER top_p ${o.sampling.topP}`,
    `PARAMETER repeat_penalty ${o.sampling.repetitionPenalty}`,
    ...o.stop.map((s) => `PARAMETER stop ${quoted(s)}`),
  ];
  return lines.join('\n') + '\n';
}
