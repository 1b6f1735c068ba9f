// The `dataset.import` job: read a dataset file with byte progress, detect or apply the column mapping and
// list every bad row (file, line, field, what was expected). 'skip' leaves bad rows out and reports them;
// 'stop' fails the job at the first one with that sentence. The core records the dataset from the result.
import { DATASET_IMPORT_JOB_KIND, DatasetImportJobParams, fromFormatsMapping, toFormatsMapping, type DatasetImportJobResult } from '../../../common/api/datasets.ts';
import { nested, say } from '../../../common/api/phrases.ts';
import { DatasetReadError, formatProblem, importDataset, problemSaid } from '../../formats/dataset/index.ts';
import { defineJobKind, JobCancelled } from '../job-kind.ts';

/** Duplicate groups kept in the dataset's record (all are counted; the list is for finding them). */
const MAX_DUPLICATE_GROUPS = 50;

/** Problems kept in the record; the count covers all of them. */
export const KEPT_PROBLEMS = 200;

export const datasetImportJob = defineJobKind({
  name: DATASET_IMPORT_JOB_KIND,
  doc: 'Read a dataset file, detect its format and columns, and report every bad row.',
  params: DatasetImportJobParams,
  async run(params, ctx): Promise<DatasetImportJobResult> {
    let lastReport = 0;
    const imported = await importDataset(params.path, {
      mapping: toFormatsMapping(params.format, params.columns),
      onProblem: params.onProblem,
      maxProblems: KEPT_PROBLEMS,
      onProgress: (p) => {
        if (ctx.signal.aborted) throw new JobCancelled(); // stops the read between rows
        const now = Date.now();
        if (now - lastReport < 200) return;
        lastReport = now;
        ctx.progress(p.totalBytes > 0 ? Math.min(1, p.bytesRead / p.totalBytes) : null, say('progress.rowsRead', { rows: p.rowsRead }));
      },
    });
    if (imported.examples.length === 0) {
      const first = imported.problems[0];
      const said = first ? problemSaid(first) : { message: '' };
      throw new DatasetReadError(say('dataset.noUsableRows', { ...nested('first', said), file: imported.file, problems: imported.problemCount, first: said.message }), params.path);
    }
    ctx.log(`${imported.file}: ${imported.examples.length} usable rows of ${imported.rowsRead}; ${imported.badRows} bad (${imported.problemCount} problems); ${imported.duplicates.duplicateRows} exact duplicates; mapping: ${imported.mappingReason}`);
    return {
      path: params.path,
      fileFormat: imported.fileFormat,
      format: imported.mapping.format,
      columns: fromFormatsMapping(imported.mapping),
      mappingReason: imported.mappingReason,
      mappingReasonPhrase: imported.mappingReasonPhrase,
      rowsRead: imported.rowsRead,
      examples: imported.examples.length,
      badRows: imported.badRows,
      problemCount: imported.problemCount,
      problems: imported.problems.map((p) => ({ ...p, text: formatProblem(p) })),
      duplicateRows: imported.duplicates.duplicateRows,
      duplicateGroups: imported.duplicates.groups.slice(0, MAX_DUPLICATE_GROUPS),
      hash: imported.contentHash,
    };
  },
});
