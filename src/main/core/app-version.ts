// The studio's version, read once from package.json (recorded on every run for provenance).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

let cached: string | null = null;

export function appVersion(): string {
  if (cached !== null) return cached;
  // Walk up from this file: sources live at src/main/core, the bundle at out/main; both sit below package.json.
  let dir = import.meta.dirname;
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'lora-studio' && pkg.version) return (cached = pkg.version);
    } catch {
      // not here; keep walking up
    }
    dir = join(dir, '..');
  }
  return (cached = '0.0.0-unknown');
}
