import { DataError, describe, isPlainObject, isTensor } from '@ml/core';

import type { SplitBatch } from './runner-types.js';

// The batch protocol: how the default step and `predict` take a batch apart into input and target.

const SPLIT_KEYS: [string, string][] = [
  ['x', 'y'],
  ['input', 'target'],
  ['inputs', 'targets'],
];

/**
 * The default {@link RunnerOptions.splitBatch}: `[x, y]` arrays, `{ x, y }` / `{ input, target }` /
 * `{ inputs, targets }` objects, or a bare input tensor; a DataError for anything else.
 */
export function defaultSplitBatch(batch: unknown): SplitBatch {
  if (isTensor(batch)) return { input: batch };
  if (Array.isArray(batch) && isTensor(batch[0])) {
    return isTensor(batch[1]) ? { input: batch[0], target: batch[1] } : { input: batch[0] };
  }
  if (isPlainObject(batch)) {
    for (const [i, t] of SPLIT_KEYS) {
      const input = batch[i];
      const target = batch[t];
      if (isTensor(input)) return isTensor(target) ? { input, target } : { input };
    }
  }
  throw new DataError(
    `Runner: cannot take the batch apart into input and target: expected [x, y], { x, y }, { input, target } or a tensor, got ${describe(batch)}; pass splitBatch or a step hook`,
  );
}
