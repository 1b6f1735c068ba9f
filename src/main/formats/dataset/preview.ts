/**
 * Everything the dataset previewer shows, as one JSON-serialisable object: the import report (format,
 * mapping, bad rows, duplicates, hash), a page of rows rendered with the run's template (token pieces
 * with trained/special flags), and token-length statistics with the truncated share.
 */
import { HfTokenizer } from '../tokenizer/tokenizer.ts';
import { ExampleRenderer, pinTemplate, type RenderOptions, type TemplateSpec } from '../tokenizer/render.ts';
import { tokenPieces, type TokenPiece } from '../tokenizer/pieces.ts';
import { PromptTemplateError } from '../tokenizer/prompt-template.ts';
import type { Phrase } from '../../../common/api/phrases.ts';
import { importDataset, type ImportOptions } from './import.ts';
import { formatProblem, type DatasetProblem } from './problems.ts';
import type { ColumnMapping, DatasetFormat } from './schema.ts';
import { tokenLengthStats, type TokenLengthStats } from './stats.ts';
import type { Example } from './types.ts';

export interface PreviewOptions extends Pick<ImportOptions, 'mapping' | 'format' | 'onProgress'> {
  /** Model folder for the tokenizer and chat template; without it rows are shown untokenized. */
  modelDir?: string;
  /** Template; default: the model's chat template for chat/pair data (plain if it has none), plain for text. */
  template?: TemplateSpec;
  maxLength?: number;
  trainOn?: RenderOptions['trainOn'];
  /** First row of the page (index among usable rows) and page size. */
  offset?: number;
  rows?: number;
  /** Measure token lengths on at most this many rows (evenly spread). Default 5000. */
  sample?: number;
}

export interface PreviewRow {
  row: number;
  line?: number;
  example: Example;
  /** Present when a tokenizer was given. */
  rendered?: {
    text: string;
    tokens: number;
    trainedTokens: number;
    truncated: boolean;
    fullLength: number;
    warnings: string[];
    /** The warnings as phrases, in the same order (common/api/phrases.ts `render.*`). */
    warningPhrases: Phrase[];
    pieces: TokenPiece[];
  };
  /** Why the row could not be rendered (a template error). */
  error?: string;
  /** The same as a phrase, when the error has one (a prompt template's). */
  errorPhrase?: Phrase;
}

export interface DatasetPreview {
  file: string;
  format: DatasetFormat;
  mapping: ColumnMapping;
  mappingReason: string;
  rowsRead: number;
  examples: number;
  /** Rows left out, and the problems found in them (a row may have several). */
  badRows: number;
  problemCount: number;
  problems: DatasetProblem[];
  problemLines: string[];
  duplicateRows: number;
  contentHash: string;
  /** The template with the chat template's source written in (null without a tokenizer). */
  template: TemplateSpec | null;
  rows: PreviewRow[];
  stats: TokenLengthStats | null;
}

/** The default template for a format: the chat template when the tokenizer has one, else plain. */
export function defaultTemplate(tokenizer: HfTokenizer, format: DatasetFormat): TemplateSpec {
  if (format === 'text') return { type: 'plain' };
  return tokenizer.chatTemplate !== null ? { type: 'chat' } : { type: 'plain' };
}

export async function previewDataset(path: string, options: PreviewOptions = {}): Promise<DatasetPreview> {
  const imported = await importDataset(path, { mapping: options.mapping, format: options.format, onProgress: options.onProgress, onProblem: 'skip' });
  const offset = options.offset ?? 0;
  const page = imported.examples.slice(offset, offset + (options.rows ?? 20));
  let template: TemplateSpec | null = null;
  let stats: TokenLengthStats | null = null;
  let rows: PreviewRow[] = page.map((e) => ({ row: e.row, line: e.line, example: e.example }));
  if (options.modelDir !== undefined) {
    const tokenizer = HfTokenizer.load(options.modelDir);
    template = pinTemplate(tokenizer, options.template ?? defaultTemplate(tokenizer, imported.mapping.format));
    const renderer = new ExampleRenderer(tokenizer, template, { maxLength: options.maxLength, trainOn: options.trainOn });
    rows = rows.map((r) => {
      try {
        const out = renderer.render(r.example);
        return {
          ...r,
          rendered: {
            text: out.text,
            tokens: out.ids.length,
            trainedTokens: out.trainedTokens,
            truncated: out.truncated,
            fullLength: out.fullLength,
            warnings: out.warnings,
            warningPhrases: out.warningPhrases,
            pieces: tokenPieces(tokenizer, out.ids, out.trained),
          },
        };
      } catch (err) {
        const phrase = err instanceof PromptTemplateError ? err.phrase : undefined;
        return { ...r, error: (err as Error).message, ...(phrase ? { errorPhrase: phrase } : {}) };
      }
    });
    stats = tokenLengthStats(imported.examples, renderer, { sample: options.sample ?? 5000 });
  }
  return {
    file: imported.file,
    format: imported.mapping.format,
    mapping: imported.mapping,
    mappingReason: imported.mappingReason,
    rowsRead: imported.rowsRead,
    examples: imported.examples.length,
    badRows: imported.badRows,
    problemCount: imported.problemCount,
    problems: imported.problems,
    problemLines: imported.problems.map(formatProblem),
    duplicateRows: imported.duplicates.duplicateRows,
    contentHash: imported.contentHash,
    template,
    rows,
    stats,
  };
}
