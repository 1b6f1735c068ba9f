// Entry of the `lora-studio` CLI (bin/lora-studio.js loads this through tsx).
import { cliMessage, exitCodeFor } from './context.ts';
import { createProgram } from './program.ts';

try {
  await createProgram().parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`error: ${cliMessage(err)}\n`);
  process.exitCode = exitCodeFor(err);
}
