import { ConfigError, DataError, writeFileAtomic } from '@ml/core';

/** A file of a downloadable dataset: its name on the mirror and in the cache, and its SHA-256. */
export interface RemoteFile {
  name: string;
  /** Lower-case hex SHA-256 of the file exactly as served (the `.gz` for IDX datasets). */
  sha256: string;
}

/** The `fetch` a loader uses: the global one by default, a custom one for proxies or tests. */
export type FetchLike = (
  url: string,
) => Promise<{ ok: boolean; status: number; statusText?: string; arrayBuffer(): Promise<ArrayBuffer> }>;

/** True in Node (and Bun/Deno's Node layer), where datasets are cached on disk. */
export function hasFileSystem(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof p?.versions?.node === 'string';
}

/**
 * Where datasets are cached when no `dir` is given (Node only): `$ML_DATA_DIR`, else
 * `$XDG_CACHE_HOME/ml-datasets`, else `~/.cache/ml-datasets`.
 */
export async function defaultDataDir(): Promise<string> {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  const { homedir } = await import('node:os');
  const nodePath = await import('node:path');
  if (env.ML_DATA_DIR) return env.ML_DATA_DIR;
  return nodePath.join(env.XDG_CACHE_HOME || nodePath.join(homedir(), '.cache'), 'ml-datasets');
}

/** Lower-case hex SHA-256 of `bytes` (Web Crypto: Node ≥ 20 and browsers). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

function joinUrl(baseUrl: string, name: string): string {
  return baseUrl.endsWith('/') ? `${baseUrl}${name}` : `${baseUrl}/${name}`;
}

/**
 * Downloads `baseUrl/file.name` and checks its SHA-256; a network failure, an HTTP error or a checksum
 * mismatch is a DataError (nothing is returned or written then).
 */
export async function downloadVerified(
  baseUrl: string,
  file: RemoteFile,
  fetchImpl?: FetchLike,
): Promise<Uint8Array> {
  const url = joinUrl(baseUrl, file.name);
  const doFetch = fetchImpl ?? globalThis.fetch;
  if (doFetch === undefined)
    throw new ConfigError(`download: no fetch() available to get ${url}; pass options.fetch`);
  let bytes: Uint8Array;
  try {
    const res = await doFetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
    bytes = new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    throw new DataError(`download: cannot get ${url} (${(e as Error).message})`, { cause: e });
  }
  const actual = await sha256Hex(bytes);
  if (actual !== file.sha256.toLowerCase()) {
    throw new DataError(
      `download: checksum mismatch for ${url}: SHA-256 must be ${file.sha256}, got ${actual} (${bytes.length} bytes); the file was not saved`,
    );
  }
  return bytes;
}

/** Options of {@link cachedFile}. */
export interface CachedFileOptions {
  /** Cache directory (created when missing). */
  dir: string;
  /** Download when the file is not in `dir` (default true). */
  download?: boolean;
  /** Mirror the file is fetched from when missing. */
  baseUrl: string;
  fetch?: FetchLike;
}

/** What {@link cachedFile} found or fetched. */
export interface CachedFile {
  path: string;
  bytes: Uint8Array;
  /** The URL downloaded, or null when the file was already in the cache. */
  downloadedFrom: string | null;
}

/**
 * The bytes of `file` from the cache dir (Node only): read when present (as `name`, or without a
 * `.gz` suffix when a user unpacked it), otherwise downloaded, verified against its SHA-256 and
 * written atomically (temp file + rename, so a killed download never leaves a partial file).
 */
export async function cachedFile(file: RemoteFile, options: CachedFileOptions): Promise<CachedFile> {
  const fs = await import('node:fs/promises');
  const nodePath = await import('node:path');
  const candidates = [file.name, ...(file.name.endsWith('.gz') ? [file.name.slice(0, -3)] : [])];
  for (const candidate of candidates) {
    const path = nodePath.join(options.dir, candidate);
    try {
      return { path, bytes: new Uint8Array(await fs.readFile(path)), downloadedFrom: null };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new DataError(`cachedFile: cannot read ${path} (${(e as Error).message})`, { cause: e });
    }
  }
  const path = nodePath.join(options.dir, file.name);
  if (options.download === false) {
    throw new DataError(
      `cachedFile: ${path} is missing and download is false; put ${file.name} (SHA-256 ${file.sha256}) there or allow downloading from ${options.baseUrl}`,
    );
  }
  const bytes = await downloadVerified(options.baseUrl, file, options.fetch);
  try {
    await fs.mkdir(options.dir, { recursive: true });
    await writeFileAtomic(path, bytes);
  } catch (e) {
    throw new DataError(`cachedFile: cannot write ${path} (${(e as Error).message})`, { cause: e });
  }
  return { path, bytes, downloadedFrom: joinUrl(options.baseUrl, file.name) };
}
