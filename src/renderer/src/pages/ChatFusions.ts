// The AdapterFusion combinations a chat can answer with (issue 15): finished runs of the project trained in
// attention mode, whose result is a fusion folder (not a PEFT adapter, so not in adapters.list). The core's generate
// job decodes the fused program on the studio's engine; a fusion answers alone and at scale 1.
import { useQuery } from '../api/hooks.ts';

export interface FusionChoice {
  /** The adapter select's value: `fusion:<run id>`. */
  id: string;
  runId: string;
  name: string;
  path: string;
  baseModel: string;
  adapters: number;
}

export function useFusionChoices(projectId: string): { fusions: FusionChoice[]; ready: boolean } {
  const runs = useQuery('runs.list', { projectId });
  if (runs.state.status !== 'ready') return { fusions: [], ready: runs.state.status === 'error' };
  const fusions = runs.state.data.flatMap((r) =>
    r.status === 'succeeded' && r.config.fusion?.mode === 'attention' && r.summary?.adapterPath
      ? [{ id: `fusion:${r.id}`, runId: r.id, name: r.name, path: r.summary.adapterPath, baseModel: r.config.model, adapters: r.config.fusion.adapters.length }]
      : [],
  );
  return { fusions, ready: true };
}
