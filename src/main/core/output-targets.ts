// The core's side of the "never write over an input" rule (formats/output-guard.ts): before a writing job is
// recorded, its target is checked against the job's own inputs and against the data dir and its standard
// folders (which may be written into, never replaced or contained), and a refusal becomes a StudioError the
// faces show as is. The job's writer checks again when it writes; this makes the answer immediate.
import { dataDirLayout } from './data-dir.ts';
import { StudioError } from './errors.ts';
import { say } from '../../common/api/phrases.ts';
import { guardOutput, OutputGuardError, type GuardedInput, type OutputTarget } from '../formats/output-guard.ts';

/** The data dir and its standard folders, as inputs a target may sit in but never be or hold. */
export function dataDirContainers(dataDir: string): GuardedInput[] {
  const layout = dataDirLayout(dataDir);
  return [
    { path: layout.root, role: 'studio data folder', container: true },
    { path: layout.models, role: 'studio models folder', container: true },
    { path: layout.datasets, role: 'studio datasets folder', container: true },
    { path: layout.runs, role: 'studio runs folder', container: true },
    { path: layout.exports, role: 'studio exports folder', container: true },
    { path: layout.logs, role: 'studio logs folder', container: true },
  ];
}

/**
 * Refuses a target that is, holds or sits in one of `target.inputs` (invalid_input) or that holds something
 * overwrite may not replace (conflict); the message names the path and what is there.
 */
export async function checkOutputTarget(target: OutputTarget, dataDir: string, field: string): Promise<void> {
  try {
    await guardOutput({ ...target, inputs: [...target.inputs, ...dataDirContainers(dataDir)] });
  } catch (err) {
    if (!(err instanceof OutputGuardError)) throw err;
    // the guard's sentence in other languages (the field is named by the form that shows it)
    const phrased = (message: string) => (err.phrase ? { message, phrase: err.phrase } : message);
    if (err.reason === 'input') throw new StudioError('invalid_input', phrased(`${field}: ${err.message}`), { field });
    if (err.reason === 'exists') throw new StudioError('conflict', say('guard.exists', { out: target.out }), { field });
    throw new StudioError('conflict', phrased(err.message), { field });
  }
}
