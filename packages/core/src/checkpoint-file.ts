import type * as tf from '@tensorflow/tfjs-core';

import { writeFileAtomic } from './atomic-write.js';
import { CheckpointError, ConfigError } from './errors.js';
import type { LoadStateDictResult, Module } from './module.js';
import { decodeSafetensors, encodeSafetensors, rawToTensors } from './safetensors.js';
import { describe as describeValue } from './tensor-utils.js';
import type { DecodeOptions } from './safetensors.js';

// node:fs and node:path are imported inside the functions, never at the top, so that bundling
// @ml/core for a browser does not pull in Node built-ins; only calling these functions needs Node.

/** Options of {@link saveSafetensorsFile}. */
export interface SaveSafetensorsFileOptions {
  /** Free-form strings stored in the file's `__metadata__` (e.g. epoch, config JSON). */
  metadata?: Record<string, string>;
  /** Store float32 tensors as F16: half the size, about 3 significant digits (default false). */
  half?: boolean;
}

/** A safetensors file read back: tensors (owned by the caller) and metadata. */
export interface LoadedSafetensors {
  tensors: Record<string, tf.Tensor>;
  metadata: Record<string, string>;
}

function describe(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err?.code ? `${err.code}: ${err.message}` : String((e as Error)?.message ?? e);
}

function checkMetadata(where: string, metadata: unknown): void {
  if (metadata === undefined) return;
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata))
    throw new ConfigError(`${where}: metadata must be an object of strings, got ${describeValue(metadata)}`);
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string')
      throw new ConfigError(`${where}: metadata['${k}'] must be a string, got ${typeof v}`);
  }
}

/**
 * Writes `tensors` to a safetensors file atomically: the bytes go to a temporary file in the same
 * folder (`<path>.tmp-<pid>-<random>`), which is flushed to disk and then renamed over `path`, so a
 * crash or a full disk leaves either the old file or the new one, never a partial one. float32 → F32
 * (F16 with `half`), int32 → I32, bool → BOOL; each tensor's CRC-32 goes into the metadata and is
 * verified on load. Node only. Failures are `CheckpointError`s.
 */
export async function saveSafetensorsFile(
  path: string,
  tensors: Record<string, tf.Tensor>,
  options: SaveSafetensorsFileOptions = {},
): Promise<void> {
  const where = 'saveSafetensorsFile';
  if (typeof path !== 'string' || path === '')
    throw new ConfigError(`${where}: path must be a non-empty string, got ${String(path)}`);
  checkMetadata(where, options.metadata);
  const bytes = await encodeSafetensors(tensors, {
    ...(options.metadata ? { metadata: options.metadata } : {}),
    half: options.half === true,
  });
  try {
    await writeFileAtomic(path, bytes);
  } catch (e) {
    throw new CheckpointError(
      `${where}: cannot write '${path}' (${describe(e)}); any previous file there is unchanged`,
      { cause: e },
    );
  }
}

/**
 * Reads a safetensors file into tensors (F32/F16/BF16/F64 → float32, I32/I64/U8 → int32, BOOL → bool;
 * the caller disposes them) and its metadata. A missing, truncated or corrupt file, a tensor that
 * fails its checksum or holds NaN/Infinity (unless `allowNonFinite`) is a `CheckpointError` that
 * names the file, the tensor and what is wrong.
 */
export async function loadSafetensorsFile(
  path: string,
  options: DecodeOptions = {},
): Promise<LoadedSafetensors> {
  const where = 'loadSafetensorsFile';
  if (typeof path !== 'string' || path === '')
    throw new ConfigError(`${where}: path must be a non-empty string, got ${String(path)}`);
  const fs = await import('node:fs/promises');
  let buffer: Uint8Array;
  try {
    buffer = await fs.readFile(path);
  } catch (e) {
    throw new CheckpointError(`${where}: cannot read '${path}' (${describe(e)})`, { cause: e });
  }
  const bytes = new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const { tensors, metadata } = decodeSafetensors(bytes, path, options);
  return { tensors: rawToTensors(tensors), metadata };
}

/** Saves a module's state dict (parameters and buffers, PyTorch names) with {@link saveSafetensorsFile}. */
export async function saveModule(
  path: string,
  module: Module,
  options: SaveSafetensorsFileOptions = {},
): Promise<void> {
  await saveSafetensorsFile(path, module.stateDict(), options);
}

/** Options of {@link loadModule}. */
export interface LoadModuleOptions extends DecodeOptions {
  /** Reject missing and unexpected keys (default true); wrong shapes are always rejected. */
  strict?: boolean;
}

/**
 * Loads a safetensors file into `module` with `loadStateDict` (a PyTorch state dict saved with
 * `safetensors.torch.save_file` loads directly). Returns the unmatched keys (non-strict) and the
 * file's metadata. The file's tensors are disposed.
 */
export async function loadModule(
  path: string,
  module: Module,
  options: LoadModuleOptions = {},
): Promise<LoadStateDictResult & { metadata: Record<string, string> }> {
  const { tensors, metadata } = await loadSafetensorsFile(
    path,
    options.allowNonFinite === undefined ? {} : { allowNonFinite: options.allowNonFinite },
  );
  try {
    const result = module.loadStateDict(tensors, { strict: options.strict ?? true });
    return { ...result, metadata };
  } catch (e) {
    if (e instanceof CheckpointError)
      throw new CheckpointError(`loadModule('${path}'): ${e.message}`, { cause: e });
    throw e;
  } finally {
    for (const t of Object.values(tensors)) t.dispose();
  }
}
