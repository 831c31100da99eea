import type * as tf from '@tensorflow/tfjs-core';

import { CheckpointError, ConfigError, decodeSafetensors, rawToTensors, saveSafetensorsFile } from '@ml/core';

import { fsyncDir, joinPath, nodeFs, writeFileAtomic } from './internal/fs.js';

/**
 * A checkpoint directory holds complete checkpoints side by side and text pointers to them:
 *
 * ```
 * dir/
 *   latest                       ← "e0002-s00000240-k3j9a1\n"
 *   best                         ← name of the best checkpoint (when one is tracked)
 *   e0002-s00000240-k3j9a1/
 *     model.safetensors  optimizer.safetensors  callbacks.safetensors
 *     trainer.json               ← JSON state + manifest (bytes and SHA-256 of every file)
 * ```
 *
 * A checkpoint is written into a temporary sibling directory, every file fsynced, the directory
 * renamed to its final (never reused) name, and only then are the pointers switched, each by an
 * atomic rename. A run killed at any moment therefore leaves the previous pointer on the previous
 * complete checkpoint; nothing that a pointer names is ever modified.
 */
export const CHECKPOINT_FORMAT = 'ml-runner-checkpoint';

/** Version of the layout above; readers reject other versions. */
export const CHECKPOINT_VERSION = 1;

/** Name of the JSON file with the state and the manifest inside each checkpoint. */
export const MANIFEST_FILE = 'trainer.json';

/** Which checkpoint of a directory to read: a pointer or a checkpoint's own name. */
export type CheckpointWhich = 'latest' | 'best' | (string & {});

/** What a checkpoint holds: groups of named tensors (one safetensors file each) and a JSON state. */
export interface CheckpointContent<S = unknown> {
  /** `{ model: stateDict, optimizer: …, … }`: each group becomes `<group>.safetensors`. */
  tensors: Record<string, Record<string, tf.Tensor>>;
  /** Anything JSON can hold (epoch, step, RNG states, history, …). */
  state: S;
}

/** Options of {@link writeCheckpoint}. */
export interface WriteCheckpointOptions {
  /** Epoch and step, used in the checkpoint's name and for ordering. */
  epoch: number;
  step: number;
  /** Pointers to switch to the new checkpoint (default ['latest']). */
  tags?: ('latest' | 'best')[];
  /** After writing, delete older checkpoints beyond this many (those a pointer names are always kept). Default: keep all. */
  keepLast?: number;
}

/** One checkpoint of a directory, as {@link listCheckpoints} reports it. */
export interface CheckpointEntry {
  name: string;
  epoch: number;
  step: number;
  /** Pointers that name it. */
  tags: ('latest' | 'best')[];
}

interface FileEntry {
  bytes: number;
  sha256: string;
}

interface Manifest<S> {
  format: string;
  version: number;
  epoch: number;
  step: number;
  createdAt: string;
  files: Record<string, FileEntry>;
  state: S;
}

const NAME_RE = /^e(\d+)-s(\d+)-([a-z0-9]+)$/;
const TMP_RE = /^\.tmp-(\d+)-/;
const POINTERS = ['latest', 'best'] as const;
const GROUP_RE = /^[A-Za-z0-9_-]+$/;

// JSON has no NaN or Infinity (a NaN loss in the history would come back as null): they are written
// as { "$number": "NaN" } and turned back into numbers on read.
function encodeNonFinite(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? { $number: String(value) } : value;
}

function decodeNonFinite(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const n = (value as { $number?: unknown }).$number;
    if (keys.length === 1 && typeof n === 'string') return Number(n);
  }
  return value;
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const { createHash } = await import('node:crypto');
  return createHash('sha256').update(bytes).digest('hex');
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readPointer(dir: string, pointer: string): Promise<string | null> {
  const fs = await nodeFs();
  try {
    return (await fs.readFile(await joinPath(dir, pointer), 'utf8')).trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/**
 * Writes one checkpoint into `dir` (created if needed) as described at {@link CHECKPOINT_FORMAT} and
 * returns its name. Throws (leaving the pointers untouched) if anything fails on the way.
 */
export async function writeCheckpoint<S>(
  dir: string,
  content: CheckpointContent<S>,
  options: WriteCheckpointOptions,
): Promise<string> {
  const { epoch, step, tags = ['latest'], keepLast } = options;
  if (!Number.isInteger(epoch) || epoch < 0)
    throw new ConfigError(`writeCheckpoint: epoch must be a non-negative integer, got ${epoch}`);
  if (!Number.isInteger(step) || step < 0)
    throw new ConfigError(`writeCheckpoint: step must be a non-negative integer, got ${step}`);
  if (keepLast !== undefined && (!Number.isInteger(keepLast) || keepLast < 1))
    throw new ConfigError(`writeCheckpoint: keepLast must be a positive integer, got ${keepLast}`);
  for (const group of Object.keys(content.tensors)) {
    if (!GROUP_RE.test(group))
      throw new ConfigError(`writeCheckpoint: tensor group names must match ${GROUP_RE}, got '${group}'`);
  }
  const fs = await nodeFs();
  await fs.mkdir(dir, { recursive: true });
  await removeAbandonedTemps(dir);
  const suffix = Math.random().toString(36).slice(2, 8).padEnd(6, '0');
  const name = `e${String(epoch).padStart(4, '0')}-s${String(step).padStart(8, '0')}-${suffix}`;
  const tmp = await joinPath(dir, `.tmp-${process.pid}-${name}`);
  await fs.mkdir(tmp);
  try {
    const files: Record<string, FileEntry> = {};
    for (const [group, tensors] of Object.entries(content.tensors)) {
      const file = `${group}.safetensors`;
      const path = await joinPath(tmp, file);
      await saveSafetensorsFile(path, tensors, { metadata: { format: CHECKPOINT_FORMAT, group } });
      // The manifest records what is on disk, read back after the fsync.
      const bytes = new Uint8Array(await fs.readFile(path));
      files[file] = { bytes: bytes.byteLength, sha256: await sha256(bytes) };
    }
    const manifest: Manifest<S> = {
      format: CHECKPOINT_FORMAT,
      version: CHECKPOINT_VERSION,
      epoch,
      step,
      createdAt: new Date().toISOString(),
      files,
      state: content.state,
    };
    await writeSynced(await joinPath(tmp, MANIFEST_FILE), JSON.stringify(manifest, encodeNonFinite));
    await fsyncDir(tmp);
    await fs.rename(tmp, await joinPath(dir, name));
    await fsyncDir(dir);
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true });
    throw e;
  }
  for (const tag of tags) await writeFileAtomic(await joinPath(dir, tag), `${name}\n`);
  if (keepLast !== undefined) await pruneCheckpoints(dir, keepLast);
  return name;
}

async function writeSynced(path: string, data: string | Uint8Array): Promise<void> {
  const fs = await nodeFs();
  const handle = await fs.open(path, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

// Temp directories of writers that died (their pid is gone) are garbage.
async function removeAbandonedTemps(dir: string): Promise<void> {
  const fs = await nodeFs();
  for (const entry of await fs.readdir(dir)) {
    const m = TMP_RE.exec(entry);
    if (m && !pidAlive(Number(m[1])))
      await fs.rm(await joinPath(dir, entry), { recursive: true, force: true });
  }
}

/** The complete checkpoints in `dir`, oldest first (by step, then epoch), with the pointers naming them. */
export async function listCheckpoints(dir: string): Promise<CheckpointEntry[]> {
  const fs = await nodeFs();
  let entries: string[];
  try {
    entries = await fs.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const pointed = new Map<string, ('latest' | 'best')[]>();
  for (const p of POINTERS) {
    const target = await readPointer(dir, p);
    if (target !== null) pointed.set(target, [...(pointed.get(target) ?? []), p]);
  }
  const out: CheckpointEntry[] = [];
  for (const name of entries) {
    const m = NAME_RE.exec(name);
    if (m) out.push({ name, epoch: Number(m[1]), step: Number(m[2]), tags: pointed.get(name) ?? [] });
  }
  return out.sort((a, b) => a.step - b.step || a.epoch - b.epoch);
}

/** Deletes all but the newest `keepLast` checkpoints of `dir`, never one that a pointer names. */
export async function pruneCheckpoints(dir: string, keepLast: number): Promise<void> {
  const fs = await nodeFs();
  const all = await listCheckpoints(dir);
  const latest = await readPointer(dir, 'latest');
  // The newest are those at or before the latest pointer, so a stale newer name (from a run that was
  // resumed from an earlier checkpoint) is the first to go.
  const latestEntry = all.find((c) => c.name === latest);
  const ordered = all.filter((c) => latestEntry === undefined || c.step <= latestEntry.step);
  const keep = new Set(ordered.slice(-keepLast).map((c) => c.name));
  for (const c of all) {
    if (c.tags.length === 0 && !keep.has(c.name))
      await fs.rm(await joinPath(dir, c.name), { recursive: true, force: true });
  }
}

/** True when `dir` has a `latest` pointer (a run there can be resumed). */
export async function hasCheckpoint(dir: string): Promise<boolean> {
  return (await readPointer(dir, 'latest')) !== null;
}

/**
 * Reads and verifies one checkpoint: every file listed in the manifest must exist with its recorded
 * size and SHA-256, and decode. Anything else — a missing pointer or file, a truncated or swapped
 * file, bad JSON, another format — is a `CheckpointError` saying which. The caller owns (and
 * disposes) the returned tensors.
 */
export async function readCheckpoint<S = unknown>(
  dir: string,
  which: CheckpointWhich = 'latest',
): Promise<CheckpointContent<S> & { name: string; epoch: number; step: number }> {
  const fs = await nodeFs();
  let name: string;
  if (which === 'latest' || which === 'best') {
    const target = await readPointer(dir, which);
    if (target === null)
      throw new CheckpointError(
        `readCheckpoint: ${dir} has no '${which}' pointer, so there is no checkpoint to read`,
      );
    name = target;
  } else {
    name = which;
  }
  if (!NAME_RE.test(name))
    throw new CheckpointError(`readCheckpoint: '${name}' (from ${dir}/${which}) is not a checkpoint name`);
  const ckptDir = await joinPath(dir, name);
  let manifestText: string;
  try {
    manifestText = await fs.readFile(await joinPath(ckptDir, MANIFEST_FILE), 'utf8');
  } catch (e) {
    throw new CheckpointError(
      `readCheckpoint: cannot read ${ckptDir}/${MANIFEST_FILE} (${(e as Error).message})`,
      { cause: e },
    );
  }
  let manifest: Manifest<S>;
  try {
    manifest = JSON.parse(manifestText, decodeNonFinite) as Manifest<S>;
  } catch (e) {
    throw new CheckpointError(
      `readCheckpoint: ${ckptDir}/${MANIFEST_FILE} is not valid JSON (${(e as Error).message}); the file is truncated or corrupt`,
    );
  }
  if (manifest?.format !== CHECKPOINT_FORMAT || manifest.version !== CHECKPOINT_VERSION) {
    throw new CheckpointError(
      `readCheckpoint: ${ckptDir}/${MANIFEST_FILE} must be ${CHECKPOINT_FORMAT} version ${CHECKPOINT_VERSION}, got ${String(manifest?.format)} version ${String(manifest?.version)}`,
    );
  }
  if (manifest.files === null || typeof manifest.files !== 'object')
    throw new CheckpointError(`readCheckpoint: ${ckptDir}/${MANIFEST_FILE} has no file list`);
  // Verify every file before decoding any, so a bad checkpoint creates no tensors.
  const raws: [string, ReturnType<typeof decodeSafetensors>][] = [];
  for (const [file, entry] of Object.entries(manifest.files)) {
    const path = await joinPath(ckptDir, file);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await fs.readFile(path));
    } catch (e) {
      throw new CheckpointError(
        `readCheckpoint: ${path} is listed in the manifest but cannot be read (${(e as Error).message})`,
        { cause: e },
      );
    }
    if (bytes.byteLength !== entry.bytes) {
      throw new CheckpointError(
        `readCheckpoint: ${path} is ${bytes.byteLength} bytes, the manifest says ${entry.bytes}; the file is truncated or from another checkpoint`,
      );
    }
    if ((await sha256(bytes)) !== entry.sha256) {
      throw new CheckpointError(
        `readCheckpoint: ${path} does not match the SHA-256 in the manifest; the file is corrupt or from another checkpoint`,
      );
    }
    raws.push([file.replace(/\.safetensors$/, ''), decodeSafetensors(bytes, path)]);
  }
  const tensors: Record<string, Record<string, tf.Tensor>> = {};
  for (const [group, decoded] of raws) tensors[group] = rawToTensors(decoded.tensors);
  return { name, epoch: manifest.epoch, step: manifest.step, tensors, state: manifest.state };
}
