import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { FASHION_USAGE, main } from './main.js';
import type { FashionMetrics } from './main.js';

let out: string;
beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'fashion-demo-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

/** Runs the demo's CLI; fails if it printed its help instead. */
async function run(argv: string[]): Promise<FashionMetrics> {
  const metrics = await main(argv);
  if (metrics === null) throw new Error(`main(${argv.join(' ')}) printed its help instead of running`);
  return metrics;
}

describe('fashion-cnn demo', () => {
  it('trains on a few images and writes metrics.json, curves, history and checkpoints', async () => {
    const metrics = await run(['--out', out, '--limit', '100', '--epochs', '1', '--checkpoint-every', '1']);
    const written = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8')) as Record<string, unknown>;
    expect(written).toEqual(metrics);
    expect(Object.keys(written)).toEqual(
      expect.arrayContaining(['test_accuracy', 'epochs', 'seconds_per_epoch', 'backend']),
    );
    expect(metrics.epochs).toBe(1);
    expect(metrics.backend).toBe('wasm');
    expect(metrics.train_images).toBe(100);
    expect(metrics.test_images).toBe(100);
    expect(metrics.test_accuracy).toBeGreaterThanOrEqual(0);
    expect(metrics.test_accuracy).toBeLessThanOrEqual(1);
    expect(metrics.seconds_per_epoch).toBeGreaterThan(0);
    expect(await readdir(out)).toEqual(
      expect.arrayContaining(['curves.svg', 'history.jsonl', 'history.csv', 'checkpoints']),
    );
    expect(await readdir(join(out, 'checkpoints'))).toEqual(expect.arrayContaining(['latest', 'best']));
  });

  it('continues from its checkpoints with --resume', async () => {
    const metrics = await run(['--out', out, '--limit', '100', '--epochs', '2', '--resume']);
    expect(metrics.epochs).toBe(2);
    const history = (await readFile(join(out, 'history.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string });
    expect(history.filter((r) => r.kind === 'epoch')).toHaveLength(2);
  });

  it('rejects bad flags', async () => {
    await expect(main(['--out', out, '--limit', '0'])).rejects.toThrow(
      '--limit must be a positive integer, got 0',
    );
    await expect(main(['--out', out, '--augment', 'rotate'])).rejects.toThrow(
      "--augment must be 'fashion', 'digits' or 'none', got 'rotate'",
    );
    await expect(main(['--out', out, '--schedule', 'step'])).rejects.toThrow(
      "--schedule must be 'cosine' or 'constant', got 'step'",
    );
  });

  it('answers --help and -h with its options, and runs nothing', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect(await main(['--help'])).toBeNull();
      expect(await main(['-h', '--out', '/nonexistent/never-written'])).toBeNull();
      expect(log.mock.calls).toEqual([[FASHION_USAGE], [FASHION_USAGE]]);
    } finally {
      log.mockRestore();
    }
    expect(FASHION_USAGE).toMatch(/^Usage: pnpm demo fashion-cnn \[options\]/);
    for (const flag of [
      '--out',
      '--epochs',
      '--limit',
      '--batch-size',
      '--checkpoint-every',
      '--augment',
      '--schedule',
      '--resume',
      '--data-dir',
      '--backend',
      '--seed',
    ])
      expect(FASHION_USAGE).toContain(`  ${flag} `);
  });
});
