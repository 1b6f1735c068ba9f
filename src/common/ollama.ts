// Ollama's names for what the studio exports, as plain strings (no Node): the export writer in formats/card
// and the Exports page both say the same `ollama create` command for the Modelfile beside a GGUF.

/** An Ollama model name from a file name: lowercase letters, digits, . _ - (what `ollama create` accepts). */
export function ollamaModelName(fileName: string): string {
  return (
    fileName
      .toLowerCase()
      .replace(/\.gguf$/, '')
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[-.]+|[-.]+$/g, '') || 'model'
  );
}

/** Where the Modelfile of a GGUF file goes: beside it, the extension replaced ("x.gguf" → "x.Modelfile"). */
export function modelfilePathFor(ggufPath: string): string {
  const slash = Math.max(ggufPath.lastIndexOf('/'), ggufPath.lastIndexOf('\\'));
  const dot = ggufPath.lastIndexOf('.');
  const stem = dot > slash + 1 ? ggufPath.slice(0, dot) : ggufPath;
  return `${stem}.Modelfile`;
}

/** The command that turns a Modelfile into an Ollama model (arguments quoted for a POSIX shell when needed). */
export function ollamaCreateCommand(modelfile: string, name: string): string {
  const q = (s: string) => (/^[A-Za-z0-9._/:-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return `ollama create ${q(name)} -f ${q(modelfile)}`;
}

/** The `ollama create` command for the Modelfile an export writes beside a GGUF file. */
export function ollamaCreateForGguf(ggufPath: string): string {
  const file = ggufPath.slice(Math.max(ggufPath.lastIndexOf('/'), ggufPath.lastIndexOf('\\')) + 1);
  return ollamaCreateCommand(modelfilePathFor(ggufPath), ollamaModelName(file));
}
