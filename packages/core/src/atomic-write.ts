// The one home of atomic file writes (checkpoints, pointers, histories, downloads). node:fs and
// node:path are imported inside the functions, never at the top, so that bundling @ml/core for a
// browser does not pull in Node built-ins; only calling these needs Node.

/**
 * Flushes a directory entry (after a rename) so the new name survives a power cut. Best effort: some
 * platforms (Windows) cannot open a directory; the rename itself is still atomic there.
 */
export async function fsyncDir(dir: string): Promise<void> {
  const fs = await import('node:fs/promises');
  let handle: Awaited<ReturnType<typeof fs.open>> | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // See above: not every file system lets a directory be opened or synced.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Writes `data` to `path` atomically: the bytes go to a temporary file in the same folder
 * (`<path>.tmp-<pid>-<random>`), which is flushed to disk and renamed over `path`, then the folder
 * entry is flushed. A crash or a full disk leaves either the old file or the new one, never a partial
 * one, and no temporary file. Node only; errors are Node's own (callers wrap them in their error class).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const fs = await import('node:fs/promises');
  const nodePath = await import('node:path');
  const dir = nodePath.dirname(path);
  const pid = (globalThis as { process?: { pid?: number } }).process?.pid ?? 0;
  const tmp = nodePath.join(
    dir,
    `${nodePath.basename(path)}.tmp-${pid}-${Math.random().toString(36).slice(2, 10)}`,
  );
  let handle: Awaited<ReturnType<typeof fs.open>> | undefined;
  try {
    handle = await fs.open(tmp, 'wx');
    await handle.writeFile(data);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(tmp, path);
  } catch (e) {
    await handle?.close().catch(() => undefined);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
  await fsyncDir(dir);
}
