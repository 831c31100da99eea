// Node-only file helpers. `node:fs` is imported inside each function so that bundling @ml/runner for
// a browser does not pull it in; only the file-writing callbacks and checkpoints call these.
import type * as FsPromises from 'node:fs/promises';

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

/** Flushes a directory entry (after a rename) so the new name survives a power cut; best effort. */
export async function fsyncDir(dir: string): Promise<void> {
  const fs = await nodeFs();
  let handle: FsPromises.FileHandle | null = null;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // Some file systems do not allow opening or syncing directories; the rename itself is still atomic.
  } finally {
    await handle?.close();
  }
}

/** Writes `data` to `path` atomically: a temp file in the same directory, fsync, rename over `path`. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const fs = await nodeFs();
  const { dirname } = await import('node:path');
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await fsyncDir(dirname(path));
}
