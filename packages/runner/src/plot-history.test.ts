import { describe, expect, it } from 'vitest';

import { ConfigError } from '@ml/core';

import type { History } from './history.js';
import { historyMetrics, historySeries, plotHistory } from './plot-history.js';

const history: History = {
  steps: [1, 2, 3, 4, 5, 6].map((s) => ({ epoch: Math.ceil(s / 3), step: s * 10, loss: 2 / s, lr: 0.1 })),
  validations: [
    { epoch: 1, step: 30, val_loss: 0.9, val_accuracy: 0.5 },
    { epoch: 2, step: 60, val_loss: 0.6, val_accuracy: 0.75 },
  ],
  epochs: [
    { epoch: 1, step: 30, loss: 1.2, accuracy: 0.4, lr: 0.1, seconds: 1 },
    { epoch: 2, step: 60, loss: 0.5, accuracy: 0.8, lr: 0.1, seconds: 1 },
  ],
};

// The (x, y) vertices of an SVG path made of M/L commands.
function vertices(d: string): [number, number][] {
  return [...d.matchAll(/[ML]([-\d.]+),([-\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
}

describe('plotHistory', () => {
  it('draws one panel per key with the train and dev series as paths through every point', () => {
    expect(historyMetrics(history)).toEqual(['accuracy']);
    const svg = plotHistory(history, { title: 'Iris FNN' });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('>Iris FNN</text>');
    expect([...svg.matchAll(/data-panel="([^"]+)"/g)].map((m) => m[1])).toEqual(['loss', 'accuracy']);
    const paths = Object.fromEntries<{ n: number; d: string }>(
      [...svg.matchAll(/data-series="([^"]+)" data-points="(\d+)" d="([^"]*)"/g)].map((m) => [
        m[1] as string,
        { n: Number(m[2]), d: m[3] as string },
      ]),
    );
    expect(Object.keys(paths)).toEqual(['loss', 'val_loss', 'accuracy', 'val_accuracy']);
    expect(paths.loss?.n).toBe(6);
    const loss = vertices(paths.loss?.d ?? '');
    expect(loss).toHaveLength(6);
    // x grows with the step, and the falling loss goes down the page (SVG y grows downwards).
    for (let i = 1; i < loss.length; i++) {
      expect((loss[i] as [number, number])[0]).toBeGreaterThan((loss[i - 1] as [number, number])[0]);
      expect((loss[i] as [number, number])[1]).toBeGreaterThan((loss[i - 1] as [number, number])[1]);
    }
    expect(vertices(paths.val_accuracy?.d ?? '')).toHaveLength(2);
    expect(svg).toMatch(/stroke="#f19ec2" stroke-width="2" stroke-dasharray="6 4"/);
  });

  it('picks series from epochs when there are no step or validation records, and escapes labels', () => {
    const epochsOnly: History = {
      steps: [],
      validations: [],
      epochs: history.epochs.map((r) => ({ ...r, val_loss: 1 })),
    };
    expect(historySeries(epochsOnly, 'loss').map((s) => [s.key, s.points])).toEqual([
      [
        'loss',
        [
          [30, 1.2],
          [60, 0.5],
        ],
      ],
      [
        'val_loss',
        [
          [30, 1],
          [60, 1],
        ],
      ],
    ]);
    const withRunning: History = {
      ...history,
      steps: history.steps.map((r) => ({ ...r, accuracy: (r.step as number) / 100 })),
    };
    expect(historySeries(withRunning, 'accuracy')[0]?.points).toHaveLength(6); // running values of the step records
    expect(historySeries(history, 'accuracy')[0]?.points).toEqual([
      [30, 0.4],
      [60, 0.8],
    ]);
    const svg = plotHistory(epochsOnly, { panels: ['loss', 'a<b'] });
    expect(svg).toContain('data-panel="a&lt;b"');
    expect(svg).toContain('no data');
  });

  it('rejects bad sizes and panels', () => {
    expect(() => plotHistory(history, { height: 10 })).toThrow(ConfigError);
    expect(() => plotHistory(history, { height: 10 })).toThrow(
      'plotHistory: height must be a number ≥ 120, got 10',
    );
    expect(() => plotHistory(history, { panels: [] })).toThrow(
      'plotHistory: panels must be a non-empty array of log keys, got []',
    );
  });
});
