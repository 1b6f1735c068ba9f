/**
 * Classification and regression figures, as scikit-learn computes them (what run_glue.py and the evaluate library
 * report): accuracy, macro-F1 over the classes that occur in the gold labels or the predictions (sklearn's default
 * `labels=None`; a class with no predicted and no gold row would otherwise count as F1 0), per-class precision /
 * recall / F1 with 0 where a ratio is 0/0 (sklearn's zero_division result), and the confusion matrix with gold
 * classes as rows and predicted classes as columns. Regression (one float label): mean squared error and Pearson r.
 */

export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  /** Gold rows of this class. */
  support: number;
}

export interface ClassificationMetrics {
  accuracy: number;
  macroF1: number;
  /** matrix[gold][predicted] = count, over all `numLabels` classes. */
  confusionMatrix: number[][];
  perClass: ClassScores[];
  count: number;
}

/** Index of the largest logit (the first on ties, as numpy's argmax). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Softmax probabilities of one row of logits. */
export function softmax(logits: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const exps = Array.from(logits, (v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

export function classificationMetrics(
  gold: readonly number[],
  predicted: readonly number[],
  numLabels: number,
): ClassificationMetrics {
  if (gold.length !== predicted.length) {
    throw new Error(`classification metrics: ${gold.length} gold labels but ${predicted.length} predictions`);
  }
  const matrix = Array.from({ length: numLabels }, () => new Array<number>(numLabels).fill(0));
  let correct = 0;
  for (let i = 0; i < gold.length; i++) {
    const g = gold[i];
    const p = predicted[i];
    if (!Number.isInteger(g) || g < 0 || g >= numLabels || !Number.isInteger(p) || p < 0 || p >= numLabels) {
      throw new Error(
        `classification metrics: row ${i} has gold ${g} / predicted ${p}, outside the ${numLabels} classes`,
      );
    }
    matrix[g][p]++;
    if (g === p) correct++;
  }
  const perClass: ClassScores[] = [];
  const present: number[] = [];
  for (let c = 0; c < numLabels; c++) {
    const tp = matrix[c][c];
    let goldCount = 0;
    let predictedCount = 0;
    for (let k = 0; k < numLabels; k++) {
      goldCount += matrix[c][k];
      predictedCount += matrix[k][c];
    }
    const precision = predictedCount === 0 ? 0 : tp / predictedCount;
    const recall = goldCount === 0 ? 0 : tp / goldCount;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    perClass.push({ precision, recall, f1, support: goldCount });
    if (goldCount > 0 || predictedCount > 0) present.push(c);
  }
  const macroF1 = present.length === 0 ? 0 : present.reduce((sum, c) => sum + perClass[c].f1, 0) / present.length;
  return {
    accuracy: gold.length === 0 ? 0 : correct / gold.length,
    macroF1,
    confusionMatrix: matrix,
    perClass,
    count: gold.length,
  };
}

export interface RegressionMetrics {
  mse: number;
  /** Pearson correlation; null when either side is constant (undefined correlation). */
  pearson: number | null;
  count: number;
}

export function regressionMetrics(gold: readonly number[], predicted: readonly number[]): RegressionMetrics {
  if (gold.length !== predicted.length)
    throw new Error(`regression metrics: ${gold.length} gold values but ${predicted.length} predictions`);
  const n = gold.length;
  if (n === 0) return { mse: 0, pearson: null, count: 0 };
  let se = 0;
  let meanG = 0;
  let meanP = 0;
  for (let i = 0; i < n; i++) {
    se += (gold[i] - predicted[i]) ** 2;
    meanG += gold[i] / n;
    meanP += predicted[i] / n;
  }
  let cov = 0;
  let varG = 0;
  let varP = 0;
  for (let i = 0; i < n; i++) {
    cov += (gold[i] - meanG) * (predicted[i] - meanP);
    varG += (gold[i] - meanG) ** 2;
    varP += (predicted[i] - meanP) ** 2;
  }
  return { mse: se / n, pearson: varG === 0 || varP === 0 ? null : cov / Math.sqrt(varG * varP), count: n };
}
