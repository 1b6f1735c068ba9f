export * from './writer.ts';
export * from './tokenizer.ts';
export * from './model.ts';
