export { CARD_FILE, cardMetadata, renderModelCard, type CardTarget } from './model-card.ts';
export { LOSS_CURVE_FILE, renderLossCurveSvg, niceTicks, type CurvePoint } from './loss-curve.ts';
export {
  MODELFILE_HEADER,
  ggufFileName,
  modelfilePathFor,
  ollamaCreateCommand,
  ollamaModelName,
  readGgufFacts,
  renderModelfile,
  type GgufFacts,
  type ModelfileOptions,
} from './ollama.ts';
export { baseModelLicense, cardFrontMatter, chatStopTokens, hubIdFromCachePath } from './base-model.ts';
export {
  CARD_KIND_OF_EXPORT,
  publishFiles,
  writeExportCard,
  type PublishSet,
  type ExportCardResult,
} from './publish-files.ts';
export { adapterBaseFolder, adapterFolderFacts, baseFolderFacts, folderCardFacts } from './folder-facts.ts';
