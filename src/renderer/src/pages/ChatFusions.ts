// The AdapterFusion combinations a chat can answer with (issue 15): finished runs of the project trained in
// attention mode, whose result is a fusion folder (not a PEFT adapter, so not in adapters.list). The core's generate
// job decodes the fused program on the studio's engine; a fusion answers alone and at scale 1, so its pane and its
// answers are labelled with what it is (its name and the adapters its attention weighs), never with a scale.
import { useQuery } from '../api/hooks.ts';
import { basename } from '../format.ts';

export interface FusionChoice {
  /** The adapter select's value: `fusion:<run id>`. */
  id: string;
  runId: string;
  name: string;
  path: string;
  baseModel: string;
  adapters: number;
  /** The combined adapters' names, in the run's order (a run's adapter by its run's name). */
  adapterNames: string[];
}

const trimmed = (path: string) => path.replace(/[\\/]+$/, '');

/** An adapter folder's name: the run or adapter record that has it, else its folder (`<x>/adapter` → x). */
function adapterName(path: string, known: Map<string, string>): string {
  const name = known.get(trimmed(path));
  if (name) return name;
  const base = basename(trimmed(path));
  return base === 'adapter' ? basename(trimmed(path).replace(/[\\/]adapter$/, '')) : base;
}

export function useFusionChoices(
  projectId: string,
  adapters: { path: string; name: string }[] = [],
): { fusions: FusionChoice[]; ready: boolean } {
  const runs = useQuery('runs.list', { projectId });
  if (runs.state.status !== 'ready') return { fusions: [], ready: runs.state.status === 'error' };
  const known = new Map<string, string>(adapters.map((a) => [trimmed(a.path), a.name]));
  for (const r of runs.state.data) if (r.summary?.adapterPath) known.set(trimmed(r.summary.adapterPath), r.name);
  const fusions = runs.state.data.flatMap((r) =>
    r.status === 'succeeded' && r.config.fusion?.mode === 'attention' && r.summary?.adapterPath
      ? [
          {
            id: `fusion:${r.id}`,
            runId: r.id,
            name: r.name,
            path: r.summary.adapterPath,
            baseModel: r.config.model,
            adapters: r.config.fusion.adapters.length,
            adapterNames: r.config.fusion.adapters.map((p) => adapterName(p, known)),
          },
        ]
      : [],
  );
  return { fusions, ready: true };
}

/** The fusion an adapter reference (a pane's, an answer's) points at, if it is one. */
export function fusionAt(fusions: FusionChoice[], path: string): FusionChoice | undefined {
  return fusions.find((f) => trimmed(f.path) === trimmed(path));
}
