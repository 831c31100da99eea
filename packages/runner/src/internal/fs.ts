// Node-only file helpers. `node:fs` is imported inside each function so that bundling @ml/runner for
// a browser does not pull it in; only the file-writing callbacks and checkpoints call these.
import type * as FsPromises from 'node:fs/promises';

// Atomic writes live once, in @ml/core; re-exported for this package's file writers.
export { fsyncDir, writeFileAtomic } from '@ml/core';

let fsPromise: Promise<typeof FsPromises> | null = null;

/** `node:fs/promises`, imported on first use. */
export function nodeFs(): Promise<typeof FsPromises> {
  fsPromise ??= import('node:fs/promises');
  return fsPromise;
}

/** `node:path`'s join, imported on first use. */
export async function joinPath(...parts: string[]): Promise<string> {
  const path = await import('node:path');
  return path.join(...parts);
}
