import type { UnreadableRecord } from '../../../../common/api/system.ts';
import { doctor } from '../../system/doctor.ts';
import { StudioError } from '../../errors.ts';
import { REMOVE_WITH, StaleRecordError, unreadableReason } from '../unreadable.ts';
import { toDataset } from './datasets.ts';
import { toModel } from './models.ts';
import { runOutputDir, toRun } from './runs.ts';
import type { CoreContext, HandlerGroup } from './types.ts';

/** Every stored base model, dataset and run the lists skip, with why. */
function unreadableRecords(ctx: CoreContext): UnreadableRecord[] {
  const found: UnreadableRecord[] = [];
  const check = <R extends { id: string }>(
    kind: UnreadableRecord['kind'],
    records: R[],
    name: (r: R) => string,
    file: (r: R) => string | null,
    convert: (r: R) => unknown,
  ) => {
    for (const record of records) {
      const err = unreadableReason(record, convert);
      if (err !== null)
        found.push({
          kind,
          id: record.id,
          name: name(record),
          reason: err.message,
          reasonPhrase: err instanceof StudioError ? (err.phrase ?? null) : null,
          field: err instanceof StaleRecordError ? err.field : null,
          file: file(record),
          removeWith: REMOVE_WITH[kind],
        });
    }
  };
  check('model', ctx.store.baseModels.list(), (r) => r.localPath ?? r.source, (r) => r.localPath, toModel);
  for (const project of ctx.store.projects.list()) {
    check('dataset', ctx.store.datasets.listByProject(project.id), (r) => r.name, (r) => r.filePath, toDataset);
    check(
      'run',
      ctx.store.runs.listByProject(project.id),
      (r) => r.name,
      (r) => runOutputDir(ctx.dataDir, r.id),
      (r) => toRun(r, ctx),
    );
  }
  return found;
}

export const systemHandlers: HandlerGroup<'system'> = {
  'system.doctor': (_input, ctx) => doctor(ctx.dataDir, ctx.appVersion),
  'system.unreadable': (_input, ctx) => unreadableRecords(ctx),
};
