import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { IRIS_USAGE, main } from './main.js';
import type { IrisMetrics } from './main.js';

let out: string;
beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'iris-demo-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

/** Runs the demo's CLI; fails if it printed its help instead. */
async function run(argv: string[]): Promise<IrisMetrics> {
  const metrics = await main(argv);
  if (metrics === null) throw new Error(`main(${argv.join(' ')}) printed its help instead of running`);
  return metrics;
}

describe('iris demo', () => {
  it('trains both networks and the SVM, and writes metrics.json, curves, history and checkpoints', async () => {
    const metrics = await run(['--out', out, '--epochs', '20', '--backend', 'cpu']);
    const written = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8')) as Record<string, unknown>;
    expect(written).toEqual(metrics);
    expect(Object.keys(written)).toEqual(
      expect.arrayContaining(['fnn_test_accuracy', 'softmax_test_accuracy', 'svm_test_accuracy']),
    );
    for (const key of ['fnn_test_accuracy', 'softmax_test_accuracy', 'svm_test_accuracy'] as const) {
      expect(metrics[key]).toBeGreaterThanOrEqual(0);
      expect(metrics[key]).toBeLessThanOrEqual(1);
    }
    // Softmax regression separates Iris well within 20 epochs; the SVM does on its own.
    expect(metrics.softmax_test_accuracy).toBeGreaterThanOrEqual(0.8);
    expect(metrics.svm_test_accuracy).toBeGreaterThanOrEqual(0.9);
    expect(metrics.backend).toBe('cpu');
    const files = await readdir(out);
    expect(files).toEqual(
      expect.arrayContaining([
        'fnn-curves.svg',
        'softmax-curves.svg',
        'fnn-history.jsonl',
        'fnn-history.csv',
        'checkpoints',
      ]),
    );
    expect(await readdir(join(out, 'checkpoints', 'fnn'))).toContain('best');
    expect(await readFile(join(out, 'fnn-curves.svg'), 'utf8')).toContain('data-series="val_accuracy"');
  });

  it('rejects a bad --epochs', async () => {
    await expect(main(['--out', out, '--epochs', '0'])).rejects.toThrow(
      '--epochs must be a positive integer, got 0',
    );
  });

  it('answers --help and -h with its options, and runs nothing', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect(await main(['--help'])).toBeNull();
      expect(await main(['-h', '--out', '/nonexistent/never-written'])).toBeNull();
      expect(log.mock.calls).toEqual([[IRIS_USAGE], [IRIS_USAGE]]);
    } finally {
      log.mockRestore();
    }
    expect(IRIS_USAGE).toMatch(/^Usage: pnpm demo iris \[options\]/);
    for (const flag of ['--out', '--epochs', '--seed', '--backend'])
      expect(IRIS_USAGE).toContain(`  ${flag} `);
  });
});
