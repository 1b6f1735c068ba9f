export { HfTokenizer, TokenizerLoadError, type SpecialToken, type SpecialTokens, type ChatTemplateSource } from './tokenizer.ts';
export { renderChat, selectChatTemplate, compileChatTemplate, ChatTemplateError, type ChatRenderOptions } from './chat-template.ts';
export { parsePromptTemplate, renderPromptTemplate, PromptTemplateError, type ParsedPromptTemplate } from './prompt-template.ts';
export { ExampleRenderer, renderExample, pinTemplate, RenderError, type TemplateSpec, type RenderOptions, type RenderedExample } from './render.ts';
export { tokenPieces, type TokenPiece } from './pieces.ts';
