// The normalized model description lives with the families (src/main/model/spec.ts); re-exported here so
// formats/model stays the one import for reading a model folder and its spec.
export type * from '../../model/spec.ts';
