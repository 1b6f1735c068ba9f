export * from './config.ts';
export * from './targets.ts';
export * from './adapter.ts';
