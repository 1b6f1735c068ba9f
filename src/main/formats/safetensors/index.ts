export * from './dtypes.ts';
export * from './file.ts';
export * from './write.ts';
export * from './sharded.ts';
