import type { UnreadableRecord } from '../../../../common/api/system.ts';
import { doctor } from '../../system/doctor.ts';
import { REMOVE_WITH, unreadableReason } from '../unreadable.ts';
import { toDataset } from './datasets.ts';
import { toModel } from './models.ts';
import { toRun } from './runs.ts';
import type { CoreContext, HandlerGroup } from './types.ts';

/** Every stored base model, dataset and run the lists skip, with why. */
function unreadableRecords(ctx: CoreContext): UnreadableRecord[] {
  const found: UnreadableRecord[] = [];
  const check = <R extends { id: string }>(
    kind: UnreadableRecord['kind'],
    records: R[],
    name: (r: R) => string,
    convert: (r: R) => unknown,
  ) => {
    for (const record of records) {
      const reason = unreadableReason(record, convert);
      if (reason !== null)
        found.push({ kind, id: record.id, name: name(record), reason, removeWith: REMOVE_WITH[kind] });
    }
  };
  check('model', ctx.store.baseModels.list(), (r) => r.localPath ?? r.source, toModel);
  for (const project of ctx.store.projects.list()) {
    check('dataset', ctx.store.datasets.listByProject(project.id), (r) => r.name, toDataset);
    check(
      'run',
      ctx.store.runs.listByProject(project.id),
      (r) => r.name,
      (r) => toRun(r, ctx),
    );
  }
  return found;
}

export const systemHandlers: HandlerGroup<'system'> = {
  'system.doctor': (_input, ctx) => doctor(ctx.dataDir, ctx.appVersion),
  'system.unreadable': (_input, ctx) => unreadableRecords(ctx),
};
