export * from './config.ts';
export * from './targets.ts';
export * from './adapter.ts';
export * from './combine.ts';
export * from './compress.ts';
