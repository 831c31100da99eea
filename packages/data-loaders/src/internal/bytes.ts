import { Gunzip } from 'fflate';

import { DataError } from '@ml/core';

/** True when `bytes` starts with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** A Uint8Array view of `bytes` (no copy). */
export function asBytes(bytes: Uint8Array | ArrayBuffer): Uint8Array {
  return bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
}

/**
 * Gunzips `bytes` with fflate (pure JS: Node and browsers). Streaming, so a corrupt size trailer
 * cannot make it allocate gigabytes up front; corrupt or truncated input is a DataError naming `name`.
 */
export function gunzip(bytes: Uint8Array, where: string, name: string): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    const stream = new Gunzip((chunk) => {
      chunks.push(chunk);
      total += chunk.length;
    });
    stream.push(bytes, true);
  } catch (e) {
    throw new DataError(`${where}: ${name} is not valid gzip data (${(e as Error).message})`, { cause: e });
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

/** Reads a whole file (Node only; `node:fs` is imported lazily so browser bundles never load it). */
export async function readFileBytes(path: string): Promise<Uint8Array> {
  const { readFile } = await import('node:fs/promises');
  return new Uint8Array(await readFile(path));
}
