export {
  readClassificationDataset,
  labelsFromRows,
  type ClassificationDataset,
  type ClassificationExample,
  type ClassificationLabels,
  type ClassificationProblemType,
  type ReadClassificationOptions,
} from './classification.ts';
export { readQaDataset, type QaDataset, type QaDatasetExample, type QaColumns } from './squad.ts';
export { inspectTaskData, readTaskData, type InspectTaskDataOptions, type TaskDataRead } from './inspect.ts';
