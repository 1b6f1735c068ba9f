export * from './spec.ts';
export * from './registry.ts';
export * from './tensors.ts';
export * from './folder.ts';
