// Small file-system helpers shared by the format readers and writers.
import { stat } from 'node:fs/promises';

/** True when something (file or folder) is at `path`; any stat failure (missing, no permission) reads as absent. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
