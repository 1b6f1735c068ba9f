// The card an export from the command line carries, as the studio's export jobs write it: README.md (and the
// loss curve, when known) in a merged folder, a Modelfile beside a GGUF. The CLI's in-process export knows only
// its folders, so the card holds what they say (base model, adapter settings) and nothing of a run.
import { appVersion } from '../core/app-version.ts';
import { folderCardFacts, writeExportCard } from '../formats/card/index.ts';

/** Writes the card; returns the `ollama create` command for a GGUF, else null. */
export async function writeCliExportCard(o: {
  format: 'hf' | 'gguf';
  loraOnly: boolean;
  base: string;
  adapters: { adapter: string }[];
  out: string;
}): Promise<string | null> {
  if (o.loraOnly) return null; // a LoRA GGUF is not a model Ollama runs alone
  const facts = await folderCardFacts({
    baseDir: o.base,
    // Several adapters merged: no one adapter_config.json describes the result.
    adapterDir: o.adapters.length === 1 ? o.adapters[0]!.adapter : null,
    studioVersion: appVersion(),
  });
  if (o.adapters.length === 1) facts.method = 'lora';
  const written = await writeExportCard(o.format === 'hf' ? 'model' : 'gguf', o.out, facts);
  return written.ollamaCreate;
}
