// What a combined adapter was made of: each part's id, name, folder and weight, written into the combined
// adapter's own folder (combined_from.json) when the combine job succeeds, so the record travels with the folder
// and survives the parts being renamed or removed. A file that is missing or unreadable reads as "not known".
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { AdapterPart } from '../../../../common/api/adapters.ts';

export const COMBINED_FROM_FILE = 'combined_from.json';

const CombinedFromFile = z.object({
  format: z.literal('lora-studio.combined-from.v1'),
  parts: z.array(AdapterPart).min(1),
});

export function writeCombinedFrom(folder: string, parts: AdapterPart[]): void {
  const file = join(folder, COMBINED_FROM_FILE);
  const body: z.infer<typeof CombinedFromFile> = { format: 'lora-studio.combined-from.v1', parts };
  writeFileSync(`${file}.tmp`, JSON.stringify(body, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
}

export function readCombinedFrom(folder: string): AdapterPart[] | null {
  const file = join(folder, COMBINED_FROM_FILE);
  if (!existsSync(file)) return null;
  try {
    const parsed = CombinedFromFile.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data.parts : null;
  } catch {
    return null;
  }
}
