import * as tf from '@tensorflow/tfjs-core';
import Papa from 'papaparse';

import { ConfigError, DataError } from '@ml/core';

import { readFileBytes } from './internal/bytes.js';

/** How a CSV column is read: `'number'` (decimal numbers; anything else is a DataError) or `'string'`. */
export type CsvColumnType = 'number' | 'string';

/** Options of {@link parseCsv}. */
export interface ParseCsvOptions {
  /** Name used in error messages (a file name; default 'CSV data'). */
  name?: string;
  /** The first row names the columns (default true); otherwise columns are named '0', '1', …. */
  header?: boolean;
  /** Field delimiter (default ','). */
  delimiter?: string;
  /** Column types by name; columns not listed are `'number'`, except `labelColumn`, which is inferred. */
  types?: Record<string, CsvColumnType>;
  /** The label column: read as a number when every cell is one, else as a string (class name). */
  labelColumn?: string;
}

/** Defaults of {@link ParseCsvOptions}. */
export const DEFAULT_PARSE_CSV_OPTIONS = { name: 'CSV data', header: true, delimiter: ',' } as const;

/** A parsed CSV file: column names in file order, and each column's values (numbers or strings). */
export interface CsvTable {
  columns: string[];
  rowCount: number;
  values: Record<string, Float64Array | string[]>;
  /** The label column named in the options, if any. */
  labelColumn?: string;
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function quote(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}

/**
 * Parses CSV text (or UTF-8 bytes) with papaparse into typed columns. Rows are counted from 1 after
 * the header; a row with a different number of fields than the header (a ragged row) and a cell of a
 * number column that is not a decimal number are DataErrors naming the row and the column. Blank lines
 * are skipped.
 */
export function parseCsv(input: string | Uint8Array, options: ParseCsvOptions = {}): CsvTable {
  const o = { ...DEFAULT_PARSE_CSV_OPTIONS, ...options };
  const name = o.name;
  if (typeof o.delimiter !== 'string' || o.delimiter.length === 0)
    throw new ConfigError(`parseCsv: delimiter must be a non-empty string, got ${String(o.delimiter)}`);
  let text: string;
  if (typeof input === 'string') text = input;
  else {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch (e) {
      throw new DataError(`parseCsv: ${name} is not valid UTF-8 text (${(e as Error).message})`, {
        cause: e,
      });
    }
  }
  const parsed = Papa.parse<string[]>(text, {
    header: false,
    delimiter: o.delimiter,
    skipEmptyLines: true,
    dynamicTyping: false,
  });
  const fatal = parsed.errors.find((e) => e.type === 'Quotes');
  if (fatal !== undefined) {
    throw new DataError(
      `parseCsv: ${name} has a quoting error in data row ${(fatal.row ?? 0) + (o.header ? 0 : 1)}: ${fatal.message}`,
    );
  }
  const rows = parsed.data;
  if (rows.length === 0 || (o.header && rows.length === 1 && (rows[0] as string[]).length === 0)) {
    throw new DataError(`parseCsv: ${name} has no rows`);
  }
  const width = (rows[0] as string[]).length;
  const columns = o.header
    ? (rows[0] as string[]).map((c) => c.trim())
    : Array.from({ length: width }, (_, k) => String(k));
  const seen = new Set<string>();
  columns.forEach((c, k) => {
    if (c.length === 0) throw new DataError(`parseCsv: ${name} header column ${k + 1} has an empty name`);
    if (seen.has(c)) throw new DataError(`parseCsv: ${name} header names column '${c}' twice`);
    seen.add(c);
  });
  for (const k of Object.keys(o.types ?? {})) {
    if (!seen.has(k))
      throw new ConfigError(
        `parseCsv: types names column '${k}', which ${name} does not have (columns: ${columns.join(', ')})`,
      );
  }
  if (o.labelColumn !== undefined && !seen.has(o.labelColumn)) {
    throw new ConfigError(
      `parseCsv: labelColumn '${o.labelColumn}' is not a column of ${name} (columns: ${columns.join(', ')})`,
    );
  }
  const body = o.header ? rows.slice(1) : rows;
  body.forEach((r, i) => {
    if (r.length !== width) {
      throw new DataError(
        `parseCsv: ${name} data row ${i + 1} has ${r.length} fields, expected ${width} (${o.header ? 'as the header' : 'as row 1'})`,
      );
    }
  });
  const values: Record<string, Float64Array | string[]> = {};
  columns.forEach((c, k) => {
    const cells = body.map((r) => (r[k] as string).trim());
    let type = o.types?.[c];
    if (type === undefined)
      type = c === o.labelColumn && !cells.every((s) => DECIMAL.test(s)) ? 'string' : 'number';
    if (type === 'string') {
      values[c] = cells;
      return;
    }
    const out = new Float64Array(cells.length);
    cells.forEach((s, i) => {
      if (!DECIMAL.test(s))
        throw new DataError(
          `parseCsv: ${name} data row ${i + 1}, column '${c}' must be a number, got ${quote(s)}`,
        );
      out[i] = Number(s);
    });
    values[c] = out;
  });
  const table: CsvTable = { columns, rowCount: body.length, values };
  if (o.labelColumn !== undefined) table.labelColumn = o.labelColumn;
  return table;
}

/** Reads and parses a CSV file from disk (Node only); see {@link parseCsv}. */
export async function readCsvFile(path: string, options: ParseCsvOptions = {}): Promise<CsvTable> {
  let bytes: Uint8Array;
  try {
    bytes = await readFileBytes(path);
  } catch (e) {
    throw new DataError(`readCsvFile: cannot read ${path} (${(e as Error).message})`, { cause: e });
  }
  return parseCsv(bytes, { name: path, ...options });
}

/** Options of {@link csvToTensors}. */
export interface CsvToTensorsOptions {
  /** Feature columns in order (default: every number column except the label column). */
  featureColumns?: string[];
}

/** Tensors from a {@link CsvTable}; the caller owns them. */
export interface CsvTensors {
  /** float32 [N, F]. */
  features: tf.Tensor2D;
  featureNames: string[];
  /** The label column: int32 [N] class ids (string labels, or integral numbers), else float32 [N]. */
  labels?: tf.Tensor1D;
  /** For string labels: the class names, sorted, so that id k is `classNames[k]`. */
  classNames?: string[];
}

/**
 * Turns a parsed table into a float32 feature matrix [N, F] and, when the table has a label column,
 * a label vector [N]: string labels become int32 class ids in sorted name order.
 */
export function csvToTensors(table: CsvTable, options: CsvToTensorsOptions = {}): CsvTensors {
  const label = table.labelColumn;
  const featureNames =
    options.featureColumns ??
    table.columns.filter((c) => c !== label && table.values[c] instanceof Float64Array);
  featureNames.forEach((c) => {
    const col = table.values[c];
    if (col === undefined)
      throw new ConfigError(
        `csvToTensors: featureColumns names '${c}', which the table does not have (columns: ${table.columns.join(', ')})`,
      );
    if (!(col instanceof Float64Array))
      throw new ConfigError(`csvToTensors: feature column '${c}' must be a number column, it holds strings`);
  });
  const n = table.rowCount;
  const f = featureNames.length;
  const x = new Float32Array(n * f);
  featureNames.forEach((c, k) => {
    const col = table.values[c] as Float64Array;
    for (let i = 0; i < n; i++) x[i * f + k] = col[i] as number;
  });
  const out: CsvTensors = { features: tf.tensor2d(x, [n, f], 'float32'), featureNames };
  if (label !== undefined) {
    const col = table.values[label] as Float64Array | string[];
    if (Array.isArray(col)) {
      const classNames = [...new Set(col)].sort();
      const ids = new Map(classNames.map((c, k) => [c, k]));
      out.labels = tf.tensor1d(
        col.map((c) => ids.get(c) as number),
        'int32',
      );
      out.classNames = classNames;
    } else {
      const integral = col.every((v) => Number.isInteger(v) && Math.abs(v) < 2 ** 31);
      out.labels = tf.tensor1d(
        integral ? Int32Array.from(col) : Float32Array.from(col),
        integral ? 'int32' : 'float32',
      );
    }
  }
  return out;
}
