import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { SVC } from '@ml/svm';
import { afterAll, describe, expect, it, vi } from 'vitest';

import { SVM_USAGE, main, type SvmMetrics } from './main.js';

/** Runs the demo's CLI; fails if it printed its help instead. */
async function run(argv: string[]): Promise<SvmMetrics> {
  const metrics = await main(argv);
  if (metrics === null) throw new Error(`main(${argv.join(' ')}) printed its help instead of running`);
  return metrics;
}

describe('pnpm demo svm', () => {
  let out = '';
  afterAll(() => rm(out, { recursive: true, force: true }));

  it('fits every model, matches scikit-learn where it has a reference, and writes metrics.json and the Iris model', async () => {
    out = await mkdtemp(join(tmpdir(), 'ml-app-svm-'));
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const metrics = await run(['--out', out, '--seed', '0']);
    log.mockRestore();
    const written = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8')) as SvmMetrics;
    expect(written).toEqual(metrics);
    expect(new Set(metrics.results.map((r) => r.dataset))).toEqual(
      new Set(['iris', 'wine', 'breast_cancer', 'digits', 'diabetes', 'friedman1']),
    );
    for (const r of metrics.results) {
      if (r.sklearn_score !== null) expect(Math.abs(r.score - r.sklearn_score)).toBeLessThan(1e-3);
      expect(r.support_vectors).toBeGreaterThan(0);
      expect(r.fit_ms).toBeGreaterThan(0);
    }
    const iris = metrics.results.filter((r) => r.dataset === 'iris');
    for (const r of iris) expect(r.score).toBeGreaterThanOrEqual(0.9);
    expect(metrics.results.find((r) => r.dataset === 'friedman1')?.score).toBeGreaterThan(0.8);
    const svc = SVC.fromJSON(JSON.parse(await readFile(join(out, 'svc-iris.json'), 'utf8')));
    expect(svc.classes).toEqual([0, 1, 2]);
  });

  it('rejects a bad --seed', async () => {
    await expect(main(['--seed', 'x'])).rejects.toThrow("pnpm demo svm: --seed must be an integer, got 'x'");
  });

  it('answers --help and -h with its options, and runs nothing', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect(await main(['--help'])).toBeNull();
      expect(await main(['-h', '--out', '/nonexistent/never-written'])).toBeNull();
      expect(log.mock.calls).toEqual([[SVM_USAGE], [SVM_USAGE]]);
    } finally {
      log.mockRestore();
    }
    expect(SVM_USAGE).toMatch(/^Usage: pnpm demo svm \[options\]/);
    for (const flag of ['--out', '--seed']) expect(SVM_USAGE).toContain(`  ${flag} `);
  });
});
