import type { OpenedUpdate } from './update-opener';

/** A decrypted update as the strategy sees it. */
export function toResult(opened: OpenedUpdate) {
  return {
    siteId: opened.header.siteId,
    numExamples: opened.header.numExamples,
    weights: opened.weights.data,
    metrics: opened.header.metrics,
  };
}

/** Example-weighted mean of the training loss the sites reported (header `metrics.trainLoss`, as plain-mode sites send it), and the total number of examples. */
export function trainingMetrics(updates: Array<{ numExamples: number; metrics: unknown }>): Record<string, number> {
  const total = updates.reduce((n, u) => n + u.numExamples, 0);
  let loss = 0;
  let have = 0;
  for (const u of updates) {
    const m = u.metrics as Record<string, number> | null;
    if (m && typeof m.trainLoss === 'number' && Number.isFinite(m.trainLoss)) {
      loss += m.trainLoss * u.numExamples;
      have += u.numExamples;
    }
  }
  return have > 0 ? { trainLoss: loss / have, numExamples: total } : { numExamples: total };
}
