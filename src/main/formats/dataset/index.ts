export type { ChatMessage, Example, ExampleKind } from './types.ts';
export { formatProblem, problemSaid, DatasetProblemError, type DatasetProblem } from './problems.ts';
export { readRows, formatFromPath, DatasetReadError, type FileFormat, type RawRow, type ReadItem, type ReadProgress, type ReadOptions } from './read.ts';
export { detectFormat, normalizeRow, missingColumns, DatasetFormatError, CANONICAL_ROLES, type ColumnMapping, type DatasetFormat, type Detection } from './schema.ts';
export { importDataset, exampleKey, type ImportOptions, type ImportedDataset, type DatasetExample, type DuplicateReport, type DuplicateGroup } from './import.ts';
export { splitByRatio, countOverlap, seededPermutation, mulberry32, type SplitOptions, type DatasetSplit } from './split.ts';
export { tokenLengthStats, type TokenLengthStats, type StatsOptions } from './stats.ts';
export { previewDataset, defaultTemplate, type DatasetPreview, type PreviewOptions, type PreviewRow } from './preview.ts';
