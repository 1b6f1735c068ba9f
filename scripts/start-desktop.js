#!/usr/bin/env node
// `npm start`: opens the desktop app. Finds (or fetches) Electron's binary, builds main/preload/renderer with
// electron-vite when the build is missing or older than the sources, then launches Electron on out/main.
// Where Electron's binary cannot be obtained (no route to GitHub), it says so in one sentence and points
// to `npm run serve`, which needs no Electron.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const electronDir = join(root, 'node_modules', 'electron');

/** Electron's executable if it is already installed (without triggering a download), else null. */
function installedElectron() {
  if (!existsSync(join(electronDir, 'package.json'))) return null;
  const pathFile = join(electronDir, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const relative = readFileSync(pathFile, 'utf8').trim();
  const dist = process.env.ELECTRON_OVERRIDE_DIST_PATH || join(electronDir, 'dist');
  const executable = join(dist, relative);
  return existsSync(executable) ? executable : null;
}

/** Tries Electron's own installer (downloads from GitHub); returns the reason when it fails. */
function downloadElectron() {
  if (!existsSync(join(electronDir, 'install.js'))) return 'the electron package is not installed (run npm install)';
  if (process.env.LORA_STUDIO_NO_ELECTRON_DOWNLOAD === '1') return 'downloading it is disabled by LORA_STUDIO_NO_ELECTRON_DOWNLOAD=1';
  process.stderr.write('Electron\'s binary is not installed yet; downloading it (about 100 MB)...\n');
  const result = spawnSync(process.execPath, [join(electronDir, 'install.js')], { cwd: root, encoding: 'utf8', timeout: 15 * 60_000 });
  if (result.status === 0 && installedElectron()) return null;
  const lines = `${result.stderr ?? ''}${result.error ? result.error.message : ''}`.split('\n').map((l) => l.trim()).filter(Boolean);
  const cause = lines.find((l) => /^(Error|RequestError|HTTPError|FetchError|TypeError)\b/.test(l)) ?? lines[0] ?? `exit code ${result.status}`;
  return `the download failed: ${cause}`;
}

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

function buildIsCurrent() {
  const outputs = ['out/main/index.js', 'out/main/worker.js', 'out/preload/index.cjs', 'out/renderer/index.html'].map((f) => join(root, f));
  if (!outputs.every((f) => existsSync(f))) return false;
  const built = Math.min(...outputs.map((f) => statSync(f).mtimeMs));
  return newestMtime(join(root, 'src')) <= built;
}

let electron = installedElectron();
if (!electron) {
  const reason = downloadElectron();
  electron = reason === null ? installedElectron() : null;
  if (!electron) {
    process.stderr.write(`LoRA Studio cannot open the desktop app because Electron's binary is not available here (${reason}); run \`npm run serve\` to use the studio in your browser instead.\n`);
    process.exit(1);
  }
}

if (!buildIsCurrent()) {
  process.stderr.write('Building the desktop app (electron-vite build)...\n');
  const build = spawnSync(process.execPath, [join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) {
    process.stderr.write('The desktop build failed (see above); `npm run serve` does not need it.\n');
    process.exit(build.status ?? 1);
  }
}

const child = spawn(electron, [root, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
child.on('exit', (code, signal) => {
  if (code !== 0 && code !== null) {
    // The usual cause: better-sqlite3 is compiled for Node's ABI, and Electron embeds another Node.
    process.stderr.write(
      'Electron exited with an error. If it could not load better-sqlite3 (NODE_MODULE_VERSION mismatch), rebuild it for Electron with ' +
        '`npx @electron/rebuild -o better-sqlite3` (and `npm rebuild better-sqlite3` to go back to Node for the CLI and tests).\n',
    );
  }
  process.exit(code ?? (signal ? 1 : 0));
});
