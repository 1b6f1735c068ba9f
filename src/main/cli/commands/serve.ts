import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { createStudioCore } from '../../core/index.ts';
import { DEFAULT_RENDERER_DIR, startStudioServer } from '../../server/serve.ts';
import { BUILD_RENDERER_COMMAND, rendererBuilt } from '../../server/static-files.ts';
import { dataDirOf } from '../context.ts';
import { isStrictNumber } from '../numbers.ts';

export const TOKEN_ENV = 'LORA_STUDIO_TOKEN';
/** Where serve keeps (and, when missing, builds) the UI unless --renderer-dir names a folder; tests point it elsewhere. */
export const RENDERER_DIR_ENV = 'LORA_STUDIO_RENDERER_DIR';
const BUILD_SCRIPT = resolve(import.meta.dirname, '../../../../scripts/build-renderer.mjs');

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Serve the studio to a browser: the UI and its API on one local port, protected by a token')
    .option('--host <host>', 'address to listen on (use 0.0.0.0 to reach it from another machine)', '127.0.0.1')
    .option('--port <port>', 'port to listen on; 0 picks a free one', parsePort, 0)
    .option('--token <token>', `the access token (default: ${TOKEN_ENV}, else a random 32-byte token)`)
    .option('--renderer-dir <dir>', 'the built UI to serve (default: out/renderer)')
    .action(async (opts: { host: string; port: number; token?: string; rendererDir?: string }, command: Command) => {
      const rendererDir = opts.rendererDir ?? process.env[RENDERER_DIR_ENV] ?? DEFAULT_RENDERER_DIR;
      if (opts.rendererDir === undefined) buildRendererIfMissing(rendererDir);
      const core = createStudioCore({ dataDir: dataDirOf(command) });
      let server;
      try {
        server = await startStudioServer({
          core,
          host: opts.host,
          port: opts.port,
          token: opts.token ?? process.env[TOKEN_ENV],
          rendererDir,
        });
      } catch (err) {
        await core.close();
        throw err;
      }
      if (!server.rendererBuilt)
        process.stderr.write(
          `warning: the UI is not built; run \`${BUILD_RENDERER_COMMAND}\` (the API works without it)\n`,
        );
      if (opts.host !== '127.0.0.1' && opts.host !== 'localhost') {
        process.stderr.write(
          `warning: listening on ${opts.host}: anyone who can reach this port and has the token can use the studio\n`,
        );
      }
      // The one line on stdout: scripts (and the browser tests) read the URL from it.
      process.stdout.write(`LoRA Studio is running at ${server.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
      await core.close();
    });
}

/**
 * The install hook builds the UI; an install that skipped hooks (npm --ignore-scripts) or a checkout that never
 * ran one gets it built here, once, before the server starts. A failed build leaves the 503 page saying so.
 */
function buildRendererIfMissing(rendererDir: string): void {
  if (rendererBuilt(rendererDir) || !existsSync(BUILD_SCRIPT)) return;
  process.stderr.write(`the UI is not built yet: building it into ${rendererDir} (a few seconds, once)\n`);
  // stdout stays the URL line's alone: the build's own output goes to stderr.
  spawnSync(process.execPath, [BUILD_SCRIPT, '--out-dir', rendererDir], { stdio: ['ignore', 2, 2] });
}

function parsePort(value: string): number {
  const port = isStrictNumber(value) ? Number(value) : NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be an integer from 0 to 65535, got "${value}"`);
  return port;
}
