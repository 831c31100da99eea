import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';

import { DataError } from '@ml/core';

import { emptyHistory, historyToJsonl, logsToCsv, parseHistoryJsonl } from './history.js';
import type { History } from './history.js';

const history: History = {
  steps: [
    { epoch: 1, step: 2, loss: 1.5, lr: 0.1 },
    { epoch: 2, step: 4, loss: NaN, lr: 0.1 },
  ],
  validations: [{ epoch: 1, step: 2, val_loss: 1.25, val_accuracy: 0.5 }],
  epochs: [
    {
      epoch: 1,
      step: 2,
      loss: 1.5,
      accuracy: 0.25,
      lr: 0.1,
      seconds: 0.5,
      val_loss: 1.25,
      val_accuracy: 0.5,
    },
    { epoch: 2, step: 4, loss: 0.75, lr: 0.05, seconds: 0.25 },
  ],
};

describe('history files', () => {
  it('JSONL lists records in step order with their kind and parses back exactly (NaN included)', () => {
    const text = historyToJsonl(history);
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; step: number });
    expect(lines.map((l) => `${l.kind}@${l.step}`)).toEqual([
      'step@2',
      'validation@2',
      'epoch@2',
      'step@4',
      'epoch@4',
    ]);
    expect(parseHistoryJsonl(text)).toEqual(history);
    expect(parseHistoryJsonl('')).toEqual(emptyHistory());
  });

  it('JSONL parse errors name the line', () => {
    expect(() => parseHistoryJsonl('{"kind":"epoch","step":1}\nnot json')).toThrow(DataError);
    expect(() => parseHistoryJsonl('{"kind":"epoch","step":1}\nnot json')).toThrow(
      /^parseHistoryJsonl: line 2 is not JSON/,
    );
    expect(() => parseHistoryJsonl('{"kind":"batch","step":1}')).toThrow(
      `parseHistoryJsonl: line 1 must have kind 'epoch', 'step' or 'validation', got "batch"`,
    );
    expect(() => parseHistoryJsonl('{"kind":"step","loss":true}')).toThrow(
      "parseHistoryJsonl: line 1, field 'loss' must be a number, got true",
    );
  });

  it('CSV has the union of columns, epoch and step first, and parses back with csv-parse', () => {
    const csv = logsToCsv(history.epochs);
    const rows = parse<Record<string, string>>(csv, { columns: true });
    expect(Object.keys(rows[0] ?? {})).toEqual([
      'epoch',
      'step',
      'loss',
      'accuracy',
      'lr',
      'seconds',
      'val_loss',
      'val_accuracy',
    ]);
    expect(rows).toHaveLength(2);
    expect(Number(rows[0]?.val_accuracy)).toBe(0.5);
    expect(rows[1]?.accuracy).toBe('');
    expect(Number(rows[1]?.loss)).toBe(0.75);
  });
});
