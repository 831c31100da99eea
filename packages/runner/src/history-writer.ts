import { ConfigError } from '@ml/core';

import type { Callback, FitContext } from './callback.js';
import { historyToJsonl, logsToCsv } from './history.js';
import { joinPath, nodeFs, writeFileAtomic } from './internal/fs.js';

/** Options of {@link HistoryWriter}. */
export interface HistoryWriterOptions {
  /** Directory for the files (created if needed). */
  dir: string;
  /** File name stem (default 'history'): writes `<name>.jsonl` and `<name>.csv`. */
  name?: string;
}

/** Defaults of {@link HistoryWriterOptions}. */
export const DEFAULT_HISTORY_WRITER_OPTIONS = { name: 'history' } as const;

/**
 * Writes the history to files after every epoch and at the end: `<name>.jsonl` (every step,
 * validation and epoch record, one JSON object per line with a `kind` field; read it back with
 * `parseHistoryJsonl`) and `<name>.csv` (one row per epoch). Each write replaces the whole file
 * atomically, so after a resume the files hold exactly the resumed run's history, without the
 * duplicates an append-only log would get.
 */
export class HistoryWriter implements Callback {
  readonly dir: string;
  readonly name: string;

  constructor(options: HistoryWriterOptions) {
    if (typeof options?.dir !== 'string' || options.dir === '')
      throw new ConfigError(`HistoryWriter: dir must be a non-empty path, got ${String(options?.dir)}`);
    this.dir = options.dir;
    this.name = options.name ?? DEFAULT_HISTORY_WRITER_OPTIONS.name;
    if (!/^[\w.-]+$/.test(this.name))
      throw new ConfigError(`HistoryWriter: name must be a plain file name stem, got '${this.name}'`);
  }

  /** Paths of the two files. */
  async paths(): Promise<{ jsonl: string; csv: string }> {
    return {
      jsonl: await joinPath(this.dir, `${this.name}.jsonl`),
      csv: await joinPath(this.dir, `${this.name}.csv`),
    };
  }

  async onEpochEnd(ctx: FitContext): Promise<void> {
    await this.#write(ctx);
  }

  async onFitEnd(ctx: FitContext): Promise<void> {
    if (!ctx.failed) await this.#write(ctx);
  }

  async #write(ctx: FitContext): Promise<void> {
    const fs = await nodeFs();
    await fs.mkdir(this.dir, { recursive: true });
    const { jsonl, csv } = await this.paths();
    await writeFileAtomic(jsonl, historyToJsonl(ctx.history));
    await writeFileAtomic(csv, logsToCsv(ctx.history.epochs));
  }
}
