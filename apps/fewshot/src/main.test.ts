import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';

import { METHODS, main } from './main.js';

let out: string;
beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'fewshot-demo-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe('fewshot demo', () => {
  test('a tiny run writes metrics.json in the documented schema and caches the graph', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const args = ['--out', out, '--episodes', '4', '--base-images', '40', '--pretrain-epochs', '1'];
    const metrics = await main([
      ...args,
      '--protocomnet-epochs',
      '1',
      '--queries',
      '5',
      '--show-graph',
      'Coat',
    ]);
    const printed = log.mock.calls.map((c) => String(c[0])).join('\n');
    log.mockRestore();
    const written = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8')) as Record<string, unknown>;
    expect(written).toEqual(metrics);
    expect(Object.keys(written)).toEqual(['episodes', 'base_classes', 'novel_classes', 'results']);
    expect(metrics?.episodes).toBe(4);
    expect(metrics?.base_classes).toEqual(['T-shirt/top', 'Trouser', 'Pullover', 'Sandal', 'Bag']);
    expect(metrics?.novel_classes).toEqual(['Dress', 'Coat', 'Shirt', 'Sneaker', 'Ankle boot']);
    expect(Object.keys(metrics?.results ?? {})).toEqual([...METHODS]);
    for (const m of METHODS)
      for (const k of ['1shot', '5shot'] as const) {
        const cell = metrics?.results[m][k];
        expect(cell?.mean).toBeGreaterThanOrEqual(0);
        expect(cell?.mean).toBeLessThanOrEqual(1);
        expect(cell?.ci95).toBeGreaterThanOrEqual(0);
      }
    const graph = JSON.parse(await readFile(join(out, 'knowledge-graph.json'), 'utf8')) as {
      nodes: unknown[];
    };
    expect(graph.nodes.length).toBeGreaterThan(10);
    expect(printed).toContain('Coat (novel class) — WordNet 03061006-n: coat');
    expect(printed).toContain('knowledge graph (built');
  }, 600_000); // loads Fashion-MNIST, reads the 300 MB vector file and trains twice: minutes on a busy machine

  test('--help prints the options; bad flags are errors', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    expect(await main(['--help'])).toBeNull();
    expect(log.mock.calls.some((c) => String(c[0]).includes('--episodes N'))).toBe(true);
    log.mockRestore();
    await expect(main(['--out', out, '--episodes', '0'])).rejects.toThrow(
      '--episodes must be a positive integer, got 0',
    );
    await expect(main(['--out', out, '--seed=-1'])).rejects.toThrow('--seed must be an integer ≥ 0, got -1');
  });
});
