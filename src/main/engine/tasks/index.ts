export {
  argmax,
  softmax,
  classificationMetrics,
  regressionMetrics,
  type ClassificationMetrics,
  type ClassScores,
  type RegressionMetrics,
} from './classification-metrics.ts';
export {
  normalizeAnswer,
  exactMatch,
  f1Score,
  squadScores,
  type SquadGold,
  type SquadPrediction,
  type SquadScores,
  type ExampleScore,
} from './squad-metrics.ts';
export {
  qaFeatures,
  postprocessQa,
  type QaExample,
  type QaFeature,
  type QaFeatureOptions,
  type QaPostprocessOptions,
  type QaPrediction,
  type QaCandidate,
  type QaLogits,
} from './qa-features.ts';
