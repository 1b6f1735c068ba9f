export * from './writer.ts';
export * from './tokenizer.ts';
export * from './model.ts';
export * from './k-quants.ts';
