// The package's browser build: its Node build touches `Buffer` at load, which kills a web page.
import { stringify } from 'csv-stringify/browser/esm/sync';

import { DataError } from '@ml/core';

/** One record of numbers: `{ epoch: 3, step: 240, loss: 0.41, accuracy: 0.88, val_loss: 0.45, … }`. */
export type Logs = Record<string, number>;

/**
 * What a fit recorded. Epochs are numbered from 1 and `step` counts optimizer steps done so far, so
 * `{ epoch: 2, step: 16 }` is the end of the second epoch of an 8-batch loader.
 */
export interface History {
  /** One record per finished epoch: epoch, step, loss, train metrics, val_loss, val_ metrics, lr, seconds. */
  epochs: Logs[];
  /** One record every `logEvery` steps: epoch, step, loss (mean over those steps), lr. */
  steps: Logs[];
  /** One record per validation run: epoch, step, val_loss, val_ metrics. */
  validations: Logs[];
}

/** The kinds of record in a history, as written in the `kind` field of JSONL lines. */
export type HistoryKind = 'epoch' | 'step' | 'validation';

const KIND_KEY: Record<HistoryKind, keyof History> = {
  epoch: 'epochs',
  step: 'steps',
  validation: 'validations',
};

/** A history with no records. */
export function emptyHistory(): History {
  return { epochs: [], steps: [], validations: [] };
}

/** A deep copy (records are plain numbers). */
export function cloneHistory(history: History): History {
  return {
    epochs: history.epochs.map((r) => ({ ...r })),
    steps: history.steps.map((r) => ({ ...r })),
    validations: history.validations.map((r) => ({ ...r })),
  };
}

/**
 * Every record as one JSON object per line, with a `kind` field ('step', 'validation', 'epoch'), in
 * the order they happened (by step). Non-finite numbers are written as strings ("NaN", "Infinity").
 */
export function historyToJsonl(history: History): string {
  const rows: { kind: HistoryKind; rank: number; record: Logs }[] = [];
  const order: HistoryKind[] = ['step', 'validation', 'epoch'];
  for (const kind of order)
    for (const record of history[KIND_KEY[kind]]) rows.push({ kind, rank: order.indexOf(kind), record });
  rows.sort((a, b) => (a.record.step ?? 0) - (b.record.step ?? 0) || a.rank - b.rank);
  return rows
    .map(
      ({ kind, record }) =>
        JSON.stringify({ kind, ...record }, (_, v: unknown) =>
          typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
        ) + '\n',
    )
    .join('');
}

/** Parses {@link historyToJsonl} output back into a History; a malformed line is a DataError naming it. */
export function parseHistoryJsonl(text: string): History {
  const history = emptyHistory();
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (e) {
      throw new DataError(`parseHistoryJsonl: line ${i + 1} is not JSON (${(e as Error).message})`);
    }
    const { kind, ...rest } = value as { kind?: unknown } & Record<string, unknown>;
    if (kind !== 'epoch' && kind !== 'step' && kind !== 'validation')
      throw new DataError(
        `parseHistoryJsonl: line ${i + 1} must have kind 'epoch', 'step' or 'validation', got ${JSON.stringify(kind)}`,
      );
    const record: Logs = {};
    for (const [k, v] of Object.entries(rest)) {
      const n = typeof v === 'string' ? Number(v) : v;
      if (typeof n !== 'number')
        throw new DataError(
          `parseHistoryJsonl: line ${i + 1}, field '${k}' must be a number, got ${JSON.stringify(v)}`,
        );
      record[k] = n;
    }
    history[KIND_KEY[kind]].push(record);
  });
  return history;
}

/**
 * Records as CSV with a header row: the columns are the union of the records' keys (epoch and step
 * first), a missing value is an empty cell.
 */
export function logsToCsv(records: readonly Logs[]): string {
  const keys = new Set<string>(['epoch', 'step']);
  for (const r of records) for (const k of Object.keys(r)) keys.add(k);
  const columns = [...keys].filter((k) => records.some((r) => k in r));
  const rows = records.map((r) => columns.map((k) => (k in r ? String(r[k]) : '')));
  return stringify([columns, ...rows]);
}
