import { describe, expect, it } from 'vitest';

import type { History } from './history.js';
import { plotHistory } from './plot-history.js';

// Loss falling to the bottom right and accuracy rising to the top right: whichever corner of the plot
// area a legend took, it would cover a curve in one of the panels.
const history: History = {
  steps: Array.from({ length: 40 }, (_, i) => ({
    epoch: 1,
    step: (i + 1) * 5,
    loss: 1.1 * Math.exp(-(i + 1) / 8),
    accuracy: 1 - 0.6 * Math.exp(-(i + 1) / 6),
  })),
  validations: [50, 100, 150, 200].map((step) => ({
    epoch: 1,
    step,
    val_loss: Math.exp(-step / 45),
    val_accuracy: 0.98 - 0.6 * Math.exp(-step / 35),
  })),
  epochs: [],
};

describe('plotHistory legend', () => {
  it('lies above the plot area of each panel, where no data is drawn', () => {
    const svg = plotHistory(history, { title: 'curves' });
    const panels = svg.split('<g class="panel"').slice(1);
    expect(panels).toHaveLength(2);
    for (const panel of panels) {
      // The plot area is the first framed rect of the panel.
      const frame = /<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="none"/.exec(
        panel,
      );
      expect(frame).not.toBeNull();
      const [left, top, width] = [Number(frame?.[1]), Number(frame?.[2]), Number(frame?.[3])];
      const legend = /<g class="legend">([\s\S]*?)<\/g>/.exec(panel)?.[1] ?? '';
      const labels = [...legend.matchAll(/<text x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]*)</g)];
      expect(labels.map((m) => m[3])).toEqual([
        expect.stringMatching(/^Train (loss|accuracy)$/),
        expect.stringMatching(/^Dev (loss|accuracy)$/),
      ]);
      const swatches = [...legend.matchAll(/<line x1="([\d.]+)" x2="([\d.]+)" y1="([\d.]+)"/g)];
      expect(swatches).toHaveLength(2);
      // Every legend entry sits above the plot area (12 px text centred on y) and inside the panel.
      const entries = [
        ...labels.map((m) => ({ x: Number(m[1]), y: Number(m[2]) })),
        ...swatches.map((m) => ({ x: Number(m[1]), y: Number(m[3]) })),
      ];
      for (const { x, y } of entries) {
        expect(y + 7).toBeLessThan(top);
        expect(x).toBeGreaterThanOrEqual(left);
        expect(x).toBeLessThan(left + width);
      }
    }
  });
});
