export * from './hf.ts';
