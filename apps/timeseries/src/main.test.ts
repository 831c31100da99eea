import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { TIMESERIES_USAGE, main } from './main.js';

let out: string;
beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'timeseries-demo-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe('timeseries demo', () => {
  it('runs every model on a short series and writes metrics.json with the documented keys and one plot per model', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      const metrics = await main(['--out', out, '--epochs', '1', '--length', '300', '--backend', 'wasm']);
      if (metrics === null) throw new Error('printed its help instead of running');
      const written = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8')) as Record<
        string,
        unknown
      >;
      expect(Object.keys(written).sort()).toEqual(
        [
          'backend',
          'hybrid_rmse',
          'last_value_rmse',
          'lstm_rmse',
          'ridge_rmse',
          'seconds',
          'svr_rmse',
          'transformer_rmse',
        ].sort(),
      );
      expect(written['backend']).toBe('wasm');
      // Ridge on 20 lags of this smooth series beats persistence by far even on a short series.
      expect(metrics.ridge_rmse).toBeLessThan(metrics.last_value_rmse / 5);
      const svgs = (await readdir(out)).filter((f) => f.endsWith('.svg')).sort();
      expect(svgs).toEqual(
        ['hybrid', 'last-value', 'lstm', 'ridge', 'svr', 'transformer'].map((m) => `prediction-${m}.svg`),
      );
      const svg = await readFile(join(out, 'prediction-hybrid.svg'), 'utf8');
      expect(svg).toContain('data-series="truth"');
      expect(svg).toContain('data-series="prediction"');
      const printed = log.mock.calls.map((c) => String(c[0])).join('\n');
      expect(printed).toContain('| Transformer→LSTM→SVR |');
      expect(printed).toContain("How the SVR's ε bounds its error");
    } finally {
      log.mockRestore();
    }
  }, 240_000);

  it('--help prints the usage and runs nothing', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      expect(await main(['--help'])).toBeNull();
      expect(log).toHaveBeenCalledWith(TIMESERIES_USAGE);
    } finally {
      log.mockRestore();
    }
  });

  it('rejects a bad --epochs', async () => {
    await expect(main(['--epochs', '0'])).rejects.toThrow('--epochs must be a positive integer, got 0');
  });
});
