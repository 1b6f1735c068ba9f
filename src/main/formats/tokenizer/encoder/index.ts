export {
  EncoderTokenizer,
  EncoderTokenizeError,
  windowRanges,
  type EncoderInput,
  type EncodeOptions,
  type TextTokens,
  type Truncation,
} from './encoder-tokenizer.ts';
export { UnsupportedTokenizerError } from './aligned-text.ts';
