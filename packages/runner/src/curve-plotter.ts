import { ConfigError } from '@ml/core';

import type { Callback, FitContext } from './callback.js';
import { nodeFs, writeFileAtomic } from './internal/fs.js';
import { plotHistory } from './plot-history.js';
import type { PlotHistoryOptions } from './plot-history.js';

/** Options of {@link CurvePlotter}: where to write, plus {@link PlotHistoryOptions}. */
export interface CurvePlotterOptions extends PlotHistoryOptions {
  /** Path of the SVG file (its directory is created if needed). */
  path: string;
}

/** Redraws the loss/metric curves ({@link plotHistory}) to an SVG file after every epoch and at the end. */
export class CurvePlotter implements Callback {
  readonly path: string;
  readonly options: PlotHistoryOptions;

  constructor(options: CurvePlotterOptions) {
    const { path, ...rest } = options ?? ({} as CurvePlotterOptions);
    if (typeof path !== 'string' || path === '')
      throw new ConfigError(`CurvePlotter: path must be a non-empty file path, got ${String(path)}`);
    this.path = path;
    this.options = rest;
  }

  async onEpochEnd(ctx: FitContext): Promise<void> {
    await this.#draw(ctx);
  }

  async onFitEnd(ctx: FitContext): Promise<void> {
    if (!ctx.failed) await this.#draw(ctx);
  }

  async #draw(ctx: FitContext): Promise<void> {
    const fs = await nodeFs();
    const path = await import('node:path');
    await fs.mkdir(path.dirname(this.path), { recursive: true });
    await writeFileAtomic(this.path, plotHistory(ctx.history, this.options));
  }
}
