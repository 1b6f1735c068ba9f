// Child process for the corruption property test: imports each given dataset file as a run would and prints one
// JSON line per file (refused with a message, or read with bad rows). It runs in its own process so that a crash
// (an uncaught exception or unhandled rejection inside a reader) fails the test as it would fail a worker.
import { basename } from 'node:path';
import { importDataset } from '../../src/main/formats/dataset/import.ts';

for (const file of process.argv.slice(2)) {
  try {
    const d = await importDataset(file);
    console.log(
      JSON.stringify({
        file: basename(file),
        ok: true,
        problems: d.problemCount,
        problemFiles: [...new Set(d.problems.map((p) => p.file))],
      }),
    );
  } catch (err) {
    const e = err as Error;
    console.log(JSON.stringify({ file: basename(file), ok: false, name: e.name, message: e.message }));
  }
}
// Give a leaked rejection time to surface before exiting.
await new Promise((resolve) => setTimeout(resolve, 300));
console.log(JSON.stringify({ done: true }));
