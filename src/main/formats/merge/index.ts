export * from './merge.ts';
