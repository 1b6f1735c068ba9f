// Small file-system helpers shared by the format readers and writers.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** True when something (file or folder) is at `path`; any stat failure (missing, no permission) reads as absent. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Bytes of every file under a folder (what an adapter or a model folder weighs on disk). */
export async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    total += entry.isDirectory() ? await folderBytes(p) : (await stat(p)).size;
  }
  return total;
}
