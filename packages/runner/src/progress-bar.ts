import type { MultiBar, SingleBar } from 'cli-progress';

import { checkPositiveInt } from '@ml/core';

import type { Callback, FitContext } from './callback.js';
import type { Logs } from './history.js';

/** Where the progress bar writes: a Node writable stream (process.stdout by default). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** Options of {@link ProgressBar}. */
export interface ProgressBarOptions {
  /** Output (default `process.stdout`). */
  stream?: ProgressStream;
  /** Draw the live bar (default: only when the stream is a TTY; otherwise just one line per epoch). */
  bar?: boolean;
  /** Print a summary line per epoch (default true). */
  epochSummary?: boolean;
  /** Print the summary line only every N epochs, and after the last one (default 1). */
  summaryEvery?: number;
  /**
   * Also print a line at every `logEvery` record while no bar is drawn (step, mean loss, running
   * metrics, samples/s), for long epochs in CI logs (default false).
   */
  logLines?: boolean;
}

const SKIP = new Set(['epoch', 'step', 'batch', 'size']);

/** Log keys that hold a fraction in [0, 1] (accuracy, top-k accuracy, R²): shown with 4 decimals. */
const FRACTION_KEY = /(^|_)(accuracy|acc|top\d+_accuracy|r2)$/;

/**
 * Formats a log value for humans: fractions (accuracy, R²) with 4 decimals, seconds with one, and
 * everything else (losses, errors, learning rates) with 4 significant digits, as an exponent below
 * 1e-3 or from 1e5 on (3 for learning rates: `1.00e-4`).
 */
export function formatValue(key: string, v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (key === 'seconds') return `${v.toFixed(1)}s`;
  if (FRACTION_KEY.test(key)) return v.toFixed(4);
  if (Math.abs(v) !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5))
    return v.toExponential(key === 'lr' ? 2 : 3);
  return Number(v.toPrecision(4)).toString();
}

/** `key value · key value` for every key of `logs` except counters. */
export function formatLogs(logs: Logs): string {
  return Object.entries(logs)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => `${k} ${formatValue(k, v)}`)
    .join(' · ');
}

/**
 * A terminal progress bar (cli-progress) with the batch count, running loss and metrics, throughput
 * (samples/s) and ETA, plus one summary line per epoch and a line for each mid-epoch validation.
 * On a TTY the lines are printed above the live bar and stay on screen; the bar is redrawn below them
 * with relative cursor moves (never a saved absolute position, which scrolling invalidates) and is
 * cleared at the end of each epoch. When the stream is not a TTY (CI logs, pipes) the bar is not drawn
 * and only the lines are printed. This callback is the one place @ml/runner prints, and only when you
 * add it.
 */
export class ProgressBar implements Callback {
  readonly stream: ProgressStream | null;
  readonly useBar: boolean;
  readonly epochSummary: boolean;
  readonly summaryEvery: number;
  readonly logLines: boolean;
  #multi: MultiBar | null = null;
  #bar: SingleBar | null = null;
  #samples = 0;
  #lossSum = 0;
  #lossCount = 0;
  #t0 = 0;
  #metrics: Logs = {};
  #validation: Logs | null = null;

  constructor(options: ProgressBarOptions = {}) {
    this.stream =
      options.stream ?? (globalThis as { process?: { stdout?: ProgressStream } }).process?.stdout ?? null;
    this.useBar = options.bar ?? this.stream?.isTTY === true;
    this.epochSummary = options.epochSummary ?? true;
    this.summaryEvery = options.summaryEvery ?? 1;
    checkPositiveInt('ProgressBar', 'summaryEvery', this.summaryEvery);
    this.logLines = options.logLines ?? false;
  }

  /** Prints a line that stays: above the live bar when one is drawn (flushed at once, in order). */
  #print(line: string): void {
    if (this.#multi !== null) {
      this.#multi.log(`${line}\n`);
      this.#multi.update();
    } else this.stream?.write(`${line}\n`);
  }

  async onEpochStart(ctx: FitContext): Promise<void> {
    this.#samples = 0;
    this.#lossSum = 0;
    this.#lossCount = 0;
    this.#metrics = {};
    this.#t0 = performance.now();
    if (!this.useBar || this.stream === null) return;
    const { default: cliProgress } = await import('cli-progress');
    const total = ctx.batchesPerEpoch;
    const format = `epoch ${ctx.epoch + 1}/${ctx.epochs} ${total !== null ? '|{bar}| {value}/{total}' : '{value} batches'} | {stats} | {speed} samples/s | ETA {eta_formatted}`;
    // A MultiBar with one bar: unlike SingleBar, it prints log lines above the bar and keeps them
    // (SingleBar restores a saved cursor position on stop and so overwrites lines printed meanwhile).
    this.#multi = new cliProgress.MultiBar(
      {
        format,
        stream: this.stream as NodeJS.WritableStream,
        clearOnComplete: true,
        hideCursor: false,
        barsize: 24,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    this.#bar = this.#multi.create(total ?? 0, ctx.batch, { stats: '', speed: '-' });
  }

  onLog(ctx: FitContext, logs: Logs): void {
    this.#metrics = Object.fromEntries(
      Object.entries(logs).filter(([k]) => !SKIP.has(k) && k !== 'loss' && k !== 'lr'),
    );
    if (this.logLines && this.#bar === null) {
      const total = ctx.batchesPerEpoch !== null ? `/${ctx.batchesPerEpoch}` : '';
      this.#print(
        `  epoch ${ctx.epoch + 1} batch ${ctx.batch}${total} · ${formatLogs(logs)} · ${this.#speed()} samples/s`,
      );
    }
  }

  #speed(): string {
    const seconds = (performance.now() - this.#t0) / 1000;
    return seconds > 0 ? String(Math.round(this.#samples / seconds)) : '-';
  }

  onValidationEnd(_ctx: FitContext, logs: Logs): void {
    this.#validation = logs;
  }

  onStepEnd(ctx: FitContext, logs: Logs): void {
    this.#samples += logs.size ?? 0;
    if (Number.isFinite(logs.loss)) {
      this.#lossSum += logs.loss as number;
      this.#lossCount += 1;
    }
    if (this.#validation !== null) {
      // A validation inside a step (evalEvery): its own line; epoch-end validations go in the epoch summary.
      this.#print(`  step ${ctx.step}: ${formatLogs(this.#validation)}`);
      this.#validation = null;
    }
    if (this.#bar === null) return;
    const stats = formatLogs({ loss: this.#lossSum / Math.max(1, this.#lossCount), ...this.#metrics });
    this.#bar.update(ctx.batch, { stats, speed: this.#speed() });
  }

  onEpochEnd(ctx: FitContext, logs: Logs): void {
    this.#validation = null;
    this.#stopBar();
    const due = (ctx.epoch + 1) % this.summaryEvery === 0 || ctx.epoch + 1 === ctx.epochs;
    if (this.epochSummary && due) this.#print(`epoch ${ctx.epoch + 1}/${ctx.epochs} · ${formatLogs(logs)}`);
  }

  onFitEnd(ctx: FitContext): void {
    this.#stopBar();
    if (ctx.stopReason !== null) this.#print(`stopped: ${ctx.stopReason}`);
  }

  #stopBar(): void {
    if (this.#multi === null) return;
    this.#multi.update(); // flush pending log lines before the bar is cleared
    this.#multi.stop();
    this.#multi = null;
    this.#bar = null;
  }
}
