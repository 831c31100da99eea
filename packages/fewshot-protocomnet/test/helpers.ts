import type { KnowledgeGraph } from '../src/knowledge-graph.js';

/**
 * A hand-made graph: classes b0, b1 (base), n0 (novel) and attributes a0, a1, a2 (node ids 3–5);
 * `edges` per class; word vectors `vectors` ([6][d]) or deterministic small ones.
 */
export function tinyGraph(
  edges: number[][] = [
    [3, 4],
    [4, 5],
    [3, 5],
  ],
  vectors?: number[][],
  dimensions = 4,
): KnowledgeGraph {
  const names = ['b0', 'b1', 'n0', 'a0', 'a1', 'a2'];
  return {
    version: 1,
    baseClasses: ['b0', 'b1'],
    novelClasses: ['n0'],
    dimensions,
    nodes: names.map((name, i) => ({
      name,
      kind: i < 3 ? 'class' : 'attribute',
      synset: 1000 + i,
      lemmas: [name],
      vector: vectors?.[i] ?? Array.from({ length: dimensions }, (_, j) => Math.sin(1 + i * dimensions + j)),
    })),
    edges,
    via: edges.map((e) => Object.fromEntries(e.map((a) => [String(a), 'thing']))),
    missingVectors: [],
  };
}
