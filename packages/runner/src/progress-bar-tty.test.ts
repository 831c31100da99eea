import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SGD } from '@ml/core';
import { onBackend } from '@ml/core/testing';

import { TinyMlp, blobs, ceLoss, loaderOf } from '../test/helpers.js';
import { Accuracy } from './accuracy.js';
import type { Callback } from './callback.js';
import { ProgressBar, formatLogs, formatValue } from './progress-bar.js';
import { Runner } from './runner.js';

/**
 * A terminal screen for tests: applies what a TTY would to the text written (printable characters,
 * newlines, and the ANSI cursor and erase sequences that Node's readline and cli-progress emit), so a
 * test sees what stays on screen rather than the raw byte stream.
 */
class ScreenStream {
  readonly isTTY = true;
  readonly columns = 160;
  readonly rows = 50;
  lines: string[] = [''];
  row = 0;
  col = 0;
  #saved: [number, number] = [0, 0];

  write(text: string): boolean {
    // eslint-disable-next-line no-control-regex -- the ANSI escape sequences (ESC, 0x1b) are what this parses
    const pattern = /\x1b\[(\??)([\d;]*)([A-Za-z])|\x1b([78])|\r|\n|[^\x1b\r\n]/gu;
    for (const m of text.matchAll(pattern)) {
      const [token, priv, params, command, saveRestore] = m;
      if (token === '\n') {
        this.row += 1;
        this.col = 0;
      } else if (token === '\r') this.col = 0;
      else if (saveRestore === '7') this.#saved = [this.row, this.col];
      else if (saveRestore === '8') [this.row, this.col] = this.#saved;
      else if (command !== undefined) {
        if (priv === '?') continue; // cursor visibility, line wrapping
        const n = params === '' || params === undefined ? NaN : Number(params.split(';')[0]);
        if (command === 'G') this.col = (Number.isNaN(n) ? 1 : n) - 1;
        else if (command === 'A') this.row = Math.max(0, this.row - (Number.isNaN(n) ? 1 : n));
        else if (command === 'B') this.row += Number.isNaN(n) ? 1 : n;
        else if (command === 'C') this.col += Number.isNaN(n) ? 1 : n;
        else if (command === 'D') this.col = Math.max(0, this.col - (Number.isNaN(n) ? 1 : n));
        else if (command === 'K') this.#eraseLine(Number.isNaN(n) ? 0 : n);
        else if (command === 'J') {
          this.#eraseLine(0);
          this.lines.length = Math.min(this.lines.length, this.row + 1);
        } else throw new Error(`ScreenStream: unhandled escape sequence ${JSON.stringify(token)}`);
      } else {
        const line = this.#line().padEnd(this.col);
        this.lines[this.row] = line.slice(0, this.col) + token + line.slice(this.col + 1);
        this.col += 1;
      }
    }
    return true;
  }

  #line(): string {
    while (this.lines.length <= this.row) this.lines.push('');
    return this.lines[this.row] ?? '';
  }

  #eraseLine(mode: number): void {
    const line = this.#line();
    this.lines[this.row] =
      mode === 0
        ? line.slice(0, this.col)
        : mode === 1
          ? ' '.repeat(this.col) + line.slice(this.col + 1)
          : '';
  }

  /** The screen's non-empty lines, right-trimmed. */
  visible(): string[] {
    return this.lines.map((l) => l.trimEnd()).filter((l) => l !== '');
  }
  // cli-progress and readline may subscribe to resize events.
  on(): this {
    return this;
  }
  removeListener(): this {
    return this;
  }
}

let train: ReturnType<typeof blobs>;
beforeAll(async () => {
  await onBackend('cpu');
  train = blobs(48, 1);
});
afterAll(() => {
  tf.dispose([train.x, train.y]);
});

function runner(callbacks: Callback[]): Runner<TinyMlp> {
  const model = new TinyMlp({ seed: 0 });
  return new Runner({
    model,
    optimizer: new SGD(model, { lr: 0.1 }),
    loss: ceLoss,
    metrics: [new Accuracy()],
    callbacks,
  });
}

describe('ProgressBar on a terminal', () => {
  it('keeps validation and epoch summary lines on screen above the live bar, and clears the bar', async () => {
    const screen = new ScreenStream();
    const snapshots: string[][] = [];
    // Runs after the bar (higher order): what the screen shows after step 5, past the first validation.
    const spy: Callback = {
      order: 10,
      onStepEnd: (ctx) => {
        if (ctx.step === 5) snapshots.push(screen.visible());
      },
    };
    const bar = new ProgressBar({ stream: screen });
    expect(bar.useBar).toBe(true);
    await runner([bar, spy]).fit(loaderOf(train.x, train.y), {
      epochs: 2,
      valLoader: loaderOf(train.x, train.y),
      evalEvery: 4,
    });

    // Mid-epoch: the step-4 validation line stays above the bar, which is the last line.
    expect(snapshots).toHaveLength(1);
    const mid = snapshots[0] ?? [];
    expect(mid[0]).toMatch(/^ {2}step 4: val_loss [\d.]+ · val_accuracy \d\.\d{4}$/);
    expect(mid.at(-1)).toMatch(/^epoch 1\/2 \|[█░]+\| \d\/6 \| loss [\d.]+/);

    // At the end: every line printed is still there, in order, and no bar is left behind.
    expect(screen.visible()).toEqual([
      expect.stringMatching(/^ {2}step 4: val_loss /),
      expect.stringMatching(/^epoch 1\/2 · loss [\d.]+ · accuracy \d\.\d{4} · lr 0\.1 · seconds [\d.]+s$/),
      expect.stringMatching(/^ {2}step 8: /),
      expect.stringMatching(/^ {2}step 12: /),
      expect.stringMatching(/^epoch 2\/2 · /),
    ]);
  });
});

describe('formatValue', () => {
  it('shows fractions with 4 decimals and other figures with 4 significant digits', () => {
    expect(formatValue('accuracy', 0.9)).toBe('0.9000');
    expect(formatValue('val_accuracy', 0.987654)).toBe('0.9877');
    expect(formatValue('top5_accuracy', 1)).toBe('1.0000');
    expect(formatValue('val_r2', 0.123456)).toBe('0.1235');
    expect(formatValue('loss', 2.302585)).toBe('2.303');
    expect(formatValue('val_loss', 0.000123456)).toBe('1.235e-4');
    expect(formatValue('mse', 123456.7)).toBe('1.235e+5');
    expect(formatValue('lr', 3e-4)).toBe('3.00e-4');
    expect(formatValue('seconds', 12.345)).toBe('12.3s');
    expect(formatValue('loss', Number.NaN)).toBe('NaN');
    expect(formatLogs({ epoch: 0, step: 3, batch: 2, size: 8, loss: 0.5, accuracy: 0.75 })).toBe(
      'loss 0.5 · accuracy 0.7500',
    );
  });
});
