// Entry of the `lora-studio` CLI (bin/lora-studio.js loads this through tsx).
import { StudioError } from '../core/index.ts';
import { exitCodeFor } from './context.ts';
import { createProgram } from './program.ts';

try {
  await createProgram().parseAsync(process.argv);
} catch (err) {
  const message = err instanceof StudioError || err instanceof Error ? err.message : String(err);
  process.stderr.write(`error: ${message}\n`);
  process.exitCode = exitCodeFor(err);
}
