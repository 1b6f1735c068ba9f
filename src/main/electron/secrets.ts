// Secrets (a Hugging Face token) encrypted with the OS keychain through Electron's safeStorage, stored as
// files in the data dir. Only the desktop shell has safeStorage; `serve` and the CLI read tokens from the
// environment (HF_TOKEN) instead.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { safeStorage } from 'electron';

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

function fileFor(dataDir: string, name: string): string {
  if (!NAME.test(name)) throw new Error(`invalid secret name "${name}": use a-z, 0-9, ".", "_" or "-"`);
  return join(dataDir, 'secrets', `${name}.bin`);
}

export function saveSecret(dataDir: string, name: string, value: string): void {
  if (!safeStorage.isEncryptionAvailable()) {
    throw new Error('this system offers no keychain to encrypt secrets with; set the HF_TOKEN environment variable instead');
  }
  const file = fileFor(dataDir, name);
  mkdirSync(join(dataDir, 'secrets'), { recursive: true, mode: 0o700 });
  writeFileSync(file, safeStorage.encryptString(value), { mode: 0o600 });
}

export function loadSecret(dataDir: string, name: string): string | null {
  try {
    return safeStorage.decryptString(readFileSync(fileFor(dataDir, name)));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export function deleteSecret(dataDir: string, name: string): void {
  rmSync(fileFor(dataDir, name), { force: true });
}
