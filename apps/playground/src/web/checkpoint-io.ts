// Reading a task's checkpoint file: the part every model of the page shares (format check, a fresh model
// from the file's metadata, weights loaded into it, the step it was saved at), so each task keeps only
// how its model is built.
import * as tf from '@tensorflow/tfjs-core';

import { CheckpointError, type Module, decodeSafetensors, rawToTensors } from '@ml/core';

const WHERE = 'load checkpoint';

/** A model read from a checkpoint file, with the file's metadata and the step it was saved at. */
export interface LoadedTaskCheckpoint<M extends Module> {
  model: M;
  metadata: Record<string, string>;
  step: number;
}

/**
 * Reads a safetensors checkpoint written by a task: checks `metadata.format`, builds a fresh model with
 * `build` (which may read the metadata), loads the weights and runs `check`. Every failure is a
 * `CheckpointError` starting with "load checkpoint:"; a model that failed to load is disposed. The
 * caller owns the returned model.
 */
export function readTaskCheckpoint<M extends Module>(
  bytes: Uint8Array,
  format: string,
  what: string,
  build: (metadata: Record<string, string>, where: string) => M,
  check?: (model: M) => void,
): LoadedTaskCheckpoint<M> {
  const { tensors: raw, metadata } = decodeSafetensors(bytes, WHERE);
  if (metadata.format !== format)
    throw new CheckpointError(
      `${WHERE}: format must be '${format}' (${what}), got ${metadata.format === undefined ? 'none' : `'${metadata.format}'`}`,
    );
  const model = build(metadata, WHERE);
  const tensors = rawToTensors(raw);
  try {
    model.loadStateDict(tensors);
    check?.(model);
  } catch (e) {
    model.dispose();
    throw new CheckpointError(`${WHERE}: ${(e as Error).message}`, { cause: e });
  } finally {
    tf.dispose(Object.values(tensors));
  }
  const step = Number(metadata.step ?? 0);
  return { model, metadata, step: Number.isInteger(step) && step >= 0 ? step : 0 };
}
