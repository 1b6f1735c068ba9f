// What a publication consists of. For the Hub: the folder's files (or the GGUF under a name carrying its
// quantization), the model card, the loss-curve image, and for a GGUF a Modelfile. For an export on disk:
// the card and the image written into the export folder, or a Modelfile beside a GGUF file. Local inputs are
// only read; the card is made in memory and replaces a README.md of the folder in the upload only.
import { readdir, readFile, stat, writeFile, rename } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import type { ModelCardFacts, PublishKind } from '../../../common/api/hub.ts';
import type { PushFile } from '../hub/push.ts';
import { FILE_MARKERS, FOLDER_MARKER } from '../output-guard.ts';
import { LOSS_CURVE_FILE, renderLossCurveSvg } from './loss-curve.ts';
import { CARD_FILE, renderModelCard } from './model-card.ts';
import {
  MODELFILE_HEADER,
  ggufFileName,
  modelfilePathFor,
  ollamaCreateCommand,
  ollamaModelName,
  readGgufFacts,
  renderModelfile,
} from './ollama.ts';

const MODELFILE = 'Modelfile';
/** Never published from a folder: our own in-progress and resume state, and OS litter. */
const SKIP = /(^|\/)(\.DS_Store|Thumbs\.db|\.[^/]*\.tmp[^/]*|[^/]*\.incomplete)$/;

async function listFolder(root: string, dir = root): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFolder(root, full)));
    else if (entry.isFile()) out.push(relative(root, full).split(sep).join('/'));
  }
  return out.sort();
}

const bytesFile = (path: string, text: string): PushFile => {
  const bytes = Buffer.from(text, 'utf8');
  return { path, content: { bytes }, size: bytes.length };
};

export interface PublishSet {
  files: PushFile[];
  /** The GGUF's name in the repo (kind gguf). */
  ggufFile: string | null;
  quant: string | null;
}

/** The files a push of `source` sends to `repo`, card included. */
export async function publishFiles(
  kind: PublishKind,
  source: string,
  repo: string,
  facts: ModelCardFacts,
): Promise<PublishSet> {
  const info = await stat(source);
  const title = repo.split('/')[1];
  const curve = renderLossCurveSvg(facts.lossCurve, facts.evalCurve);
  const extra: PushFile[] = [];
  if (curve) extra.push(bytesFile(LOSS_CURVE_FILE, curve));
  const lossCurveFile = curve ? LOSS_CURVE_FILE : null;

  if (kind === 'gguf') {
    if (!info.isFile()) throw new Error(`${source} is not a file: a GGUF push takes the .gguf file`);
    const g = await readGgufFacts(source);
    const adapter = g.type === 'adapter';
    const file = ggufFileName(adapter ? `${title}-lora` : title, g.quant);
    const files: PushFile[] = [{ path: file, content: { file: source }, size: info.size }];
    if (!adapter) {
      files.push(
        bytesFile(
          MODELFILE,
          renderModelfile({ from: `./${file}`, stop: facts.stopTokens, sampling: facts.sampling, title: repo }),
        ),
      );
    }
    const card = renderModelCard(facts, {
      kind,
      title,
      location: repo,
      onHub: true,
      gguf: { file, quant: g.quant, adapter },
      lossCurveFile,
    });
    return { files: [...files, bytesFile(CARD_FILE, card), ...extra], ggufFile: file, quant: g.quant };
  }
  if (!info.isDirectory())
    throw new Error(
      `${source} is not a folder: an ${kind} push takes the ${kind === 'adapter' ? 'adapter' : 'model'} folder`,
    );
  const files: PushFile[] = [];
  for (const path of await listFolder(source)) {
    if (
      SKIP.test(path) ||
      path === CARD_FILE ||
      path === FOLDER_MARKER ||
      path === FILE_MARKERS ||
      (curve && path === LOSS_CURVE_FILE)
    )
      continue;
    if (kind === 'adapter' && (path.startsWith('checkpoints/') || path.startsWith('checkpoint-'))) continue; // resume state, not the adapter
    const full = join(source, ...path.split('/'));
    files.push({ path, content: { file: full }, size: (await stat(full)).size });
  }
  const card = renderModelCard(facts, { kind, title, location: repo, onHub: true, lossCurveFile });
  return { files: [...files, bytesFile(CARD_FILE, card), ...extra], ggufFile: null, quant: null };
}

async function writeAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

/** True when nothing is at `path` or it is a Modelfile we wrote (its first line says so). */
async function ownModelfileOrAbsent(path: string): Promise<boolean> {
  try {
    return (await readFile(path, 'utf8')).startsWith(MODELFILE_HEADER);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/** The card an export format gets: hf → model card, peft → adapter card, gguf → Modelfile; a LoRA GGUF none. */
export const CARD_KIND_OF_EXPORT: Record<'hf' | 'peft' | 'gguf' | 'lora-gguf', PublishKind | null> = {
  hf: 'model',
  peft: 'adapter',
  gguf: 'gguf',
  'lora-gguf': null,
};

export interface ExportCardResult {
  /** Files written (absolute paths). */
  written: string[];
  /** For a GGUF: the `ollama create` command for its Modelfile. */
  ollamaCreate: string | null;
}

/**
 * Writes the card into an export we just wrote: README.md (+ loss_curve.svg) into a folder export, a
 * `<stem>.Modelfile` beside a GGUF model file. Only our own output is written to.
 */
export async function writeExportCard(
  kind: PublishKind,
  outPath: string,
  facts: ModelCardFacts,
): Promise<ExportCardResult> {
  if (kind === 'gguf') {
    const g = await readGgufFacts(outPath);
    if (g.type === 'adapter') return { written: [], ollamaCreate: null };
    const modelfile = modelfilePathFor(outPath);
    if (!(await ownModelfileOrAbsent(modelfile))) return { written: [], ollamaCreate: null }; // someone else's file: left alone
    await writeAtomic(
      modelfile,
      renderModelfile({
        from: `./${basename(outPath)}`,
        stop: facts.stopTokens,
        sampling: facts.sampling,
        title: basename(outPath),
      }),
    );
    return { written: [modelfile], ollamaCreate: ollamaCreateCommand(modelfile, ollamaModelName(basename(outPath))) };
  }
  const written: string[] = [];
  const curve = renderLossCurveSvg(facts.lossCurve, facts.evalCurve);
  if (curve) {
    await writeAtomic(join(outPath, LOSS_CURVE_FILE), curve);
    written.push(join(outPath, LOSS_CURVE_FILE));
  }
  const card = renderModelCard(facts, {
    kind,
    title: basename(outPath),
    location: outPath,
    onHub: false,
    lossCurveFile: curve ? LOSS_CURVE_FILE : null,
  });
  await writeAtomic(join(outPath, CARD_FILE), card);
  written.push(join(outPath, CARD_FILE));
  return { written, ollamaCreate: null };
}
