import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as tf from '@tensorflow/tfjs-core';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ConfigError, SGD } from '@ml/core';
import { onBackend } from '@ml/core/testing';

import { TinyMlp, blobs, ceLoss, loaderOf } from '../test/helpers.js';
import { Accuracy } from './accuracy.js';
import type { Callback } from './callback.js';
import { CurvePlotter } from './curve-plotter.js';
import { parseHistoryJsonl } from './history.js';
import { HistoryWriter } from './history-writer.js';
import { ProgressBar, formatLogs } from './progress-bar.js';
import { Runner } from './runner.js';

let train: ReturnType<typeof blobs>;
let dir: string;
beforeAll(async () => {
  await onBackend('cpu');
  train = blobs(48, 1);
  dir = await mkdtemp(join(tmpdir(), 'ml-pb-'));
});
afterAll(async () => {
  tf.dispose([train.x, train.y]);
  await rm(dir, { recursive: true, force: true });
});

class FakeStream {
  text = '';
  constructor(readonly isTTY: boolean) {}
  write(s: string): boolean {
    this.text += s;
    return true;
  }
  // cli-progress asks a TTY stream for its size and moves the cursor.
  columns = 120;
  cursorTo(): boolean {
    return true;
  }
  clearLine(): boolean {
    return true;
  }
  moveCursor(): boolean {
    return true;
  }
  on(): this {
    return this;
  }
  removeListener(): this {
    return this;
  }
}

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

describe('ProgressBar', () => {
  it('prints one summary line per epoch and mid-epoch validations when not a TTY, and no bar', async () => {
    const stream = new FakeStream(false);
    const bar = new ProgressBar({ stream });
    expect(bar.useBar).toBe(false);
    await runner([bar]).fit(loaderOf(train.x, train.y), {
      epochs: 2,
      valLoader: loaderOf(train.x, train.y),
      evalEvery: 4,
    });
    const lines = stream.text.trimEnd().split('\n');
    expect(lines.filter((l) => l.startsWith('epoch '))).toEqual([
      expect.stringMatching(/^epoch 1\/2 · loss [\d.]+ · accuracy [\d.]+ · lr 0\.1 · seconds [\d.]+s$/),
      expect.stringMatching(/^epoch 2\/2 · /),
    ]);
    expect(lines.filter((l) => l.startsWith('  step '))).toEqual([
      expect.stringMatching(/^ {2}step 4: val_loss [\d.]+ · val_accuracy [\d.]+$/),
      expect.stringMatching(/^ {2}step 8: /),
      expect.stringMatching(/^ {2}step 12: /),
    ]);
    expect(stream.text).not.toContain('█');
  });

  it('draws a bar with throughput and ETA on a TTY', async () => {
    const stream = new FakeStream(true);
    await runner([new ProgressBar({ stream })]).fit(loaderOf(train.x, train.y), { epochs: 1, logEvery: 2 });
    expect(stream.text).toMatch(/epoch 1\/1 \|[█░]+\| \d+\/6 \| loss [\d.]+/);
    expect(stream.text).toMatch(/samples\/s \| ETA/);
  });

  it('prints the summary every N epochs and after the last one', async () => {
    const stream = new FakeStream(false);
    await runner([new ProgressBar({ stream, summaryEvery: 2 })]).fit(loaderOf(train.x, train.y), {
      epochs: 5,
    });
    expect(
      stream.text
        .split('\n')
        .filter((l) => l.startsWith('epoch '))
        .map((l) => l.split(' ·')[0]),
    ).toEqual(['epoch 2/5', 'epoch 4/5', 'epoch 5/5']);
    expect(() => new ProgressBar({ summaryEvery: 0 })).toThrow(ConfigError);
    expect(() => new ProgressBar({ summaryEvery: 0 })).toThrow(
      'ProgressBar: summaryEvery must be a positive integer, got 0',
    );
  });

  it('prints a line per log record with logLines when no bar is drawn', async () => {
    const stream = new FakeStream(false);
    await runner([new ProgressBar({ stream, logLines: true })]).fit(loaderOf(train.x, train.y), {
      epochs: 1,
      logEvery: 3,
    });
    expect(stream.text.split('\n').filter((l) => l.startsWith('  epoch'))).toEqual([
      expect.stringMatching(
        /^ {2}epoch 1 batch 3\/6 · loss [\d.]+ · lr 0\.1 · accuracy [\d.]+ · \d+ samples\/s$/,
      ),
      expect.stringMatching(/^ {2}epoch 1 batch 6\/6 · /),
    ]);
  });

  it('formats logs compactly', () => {
    expect(formatLogs({ epoch: 1, step: 3, loss: 0.123456, lr: 0.0001, seconds: 2.345 })).toBe(
      'loss 0.1235 · lr 1.00e-4 · seconds 2.3s',
    );
  });
});

describe('HistoryWriter and CurvePlotter', () => {
  it('write JSONL and CSV that parse back to the fit history, and an SVG', async () => {
    const { history } = await runner([
      new HistoryWriter({ dir }),
      new CurvePlotter({ path: join(dir, 'plots', 'curves.svg') }),
    ]).fit(loaderOf(train.x, train.y), { epochs: 2, logEvery: 2, valLoader: loaderOf(train.x, train.y) });
    expect(parseHistoryJsonl(await readFile(join(dir, 'history.jsonl'), 'utf8'))).toEqual(history);
    const rows = parse<Record<string, number>>(await readFile(join(dir, 'history.csv'), 'utf8'), {
      columns: true,
      cast: true,
    });
    expect(rows).toEqual(history.epochs);
    expect(await readFile(join(dir, 'plots', 'curves.svg'), 'utf8')).toContain(
      'data-series="val_accuracy" data-points="2"',
    );
  });

  it('reject bad options', () => {
    expect(() => new HistoryWriter({ dir: '' })).toThrow(ConfigError);
    expect(() => new HistoryWriter({ dir, name: '../x' })).toThrow(
      "HistoryWriter: name must be a plain file name stem, got '../x'",
    );
    expect(() => new CurvePlotter({ path: '' })).toThrow(
      'CurvePlotter: path must be a non-empty file path, got ',
    );
  });
});
