/**
 * Scores of probabilistic predictions of binary outcomes: AUC, RMSE and log-loss. Pure, no I/O.
 * Labels are 0/1 (log-loss and RMSE also accept fractional targets in [0, 1]).
 */

/** Predictions are clipped to [LOG_LOSS_EPS, 1 − LOG_LOSS_EPS] so log-loss stays finite. */
export const LOG_LOSS_EPS = 1e-7;

function checkLengths(labels: ArrayLike<number>, predictions: ArrayLike<number>): void {
  if (labels.length !== predictions.length) {
    throw new RangeError(`${labels.length} labels but ${predictions.length} predictions`);
  }
}

/**
 * Area under the ROC curve by the rank-sum (Mann-Whitney U) formula: the probability that a
 * random positive is scored above a random negative, a tie counting one half. Tied predictions
 * share the average of their ranks, which is exactly what makes ties count one half.
 * NaN when there are no positives or no negatives (the AUC is undefined). O(n log n).
 */
export function auc(labels: ArrayLike<number>, predictions: ArrayLike<number>): number {
  checkLengths(labels, predictions);
  const n = labels.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const pred = Float64Array.from(predictions);
  order.sort((a, b) => pred[a]! - pred[b]!);
  let positives = 0;
  let rankSum = 0; // sum of the (1-based, tie-averaged) ranks of the positives
  let i = 0;
  while (i < n) {
    let j = i;
    let tiedPositives = 0;
    while (j < n && pred[order[j]!] === pred[order[i]!]) {
      if (labels[order[j]!]! >= 0.5) tiedPositives++;
      j++;
    }
    // ranks i+1 .. j share their mean
    rankSum += tiedPositives * ((i + 1 + j) / 2);
    positives += tiedPositives;
    i = j;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** Root mean squared error; NaN for no data. */
export function rmse(labels: ArrayLike<number>, predictions: ArrayLike<number>): number {
  checkLengths(labels, predictions);
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    const d = labels[i]! - predictions[i]!;
    sum += d * d;
  }
  return Math.sqrt(sum / labels.length);
}

/** Mean binary cross-entropy in nats, predictions clipped to [1e-7, 1 − 1e-7]; NaN for no data. */
export function logLoss(labels: ArrayLike<number>, predictions: ArrayLike<number>): number {
  checkLengths(labels, predictions);
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    const p = Math.min(1 - LOG_LOSS_EPS, Math.max(LOG_LOSS_EPS, predictions[i]!));
    sum -= y * Math.log(p) + (1 - y) * Math.log(1 - p);
  }
  return sum / labels.length;
}
