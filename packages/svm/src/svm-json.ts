import { CheckpointError } from '@ml/core/plain';

/** Estimator types a {@link SvmJson} can hold. */
export type SvmType = 'SVC' | 'NuSVC' | 'SVR' | 'NuSVR';

/**
 * A fitted (or unfitted) estimator as plain JSON: `JSON.stringify(model.toJSON())` and
 * `SVC.fromJSON(JSON.parse(text))` give back the same predictions bit for bit. Coefficients use
 * scikit-learn's conventions (`dualCoef`, `intercept`, binary sign flip included). `maxIter: Infinity`
 * is stored as null.
 */
export interface SvmJson {
  format: 'ml-svm';
  version: 1;
  type: SvmType;
  options: Record<string, unknown>;
  model: SvmJsonModel | null;
}

/** The fitted part of {@link SvmJson}. */
export interface SvmJsonModel {
  /** Resolved γ. */
  gamma: number;
  /** Features per row at fit time (training rows for a precomputed kernel). */
  nFeatures: number;
  /** Training-row index of each support vector. */
  support: number[];
  /** The support vectors, [nSV][nFeatures] (empty for a precomputed kernel). */
  supportVectors: number[][];
  /** [k − 1][nSV] for classifiers, [1][nSV] for regressors. */
  dualCoef: number[][];
  /** One per class pair (classifiers), or one (regressors). */
  intercept: number[];
  /** Classifiers: the sorted class labels, support vectors per class, and Platt's A, B per pair (or null). */
  classes?: number[];
  nSupport?: number[];
  probA?: number[] | null;
  probB?: number[] | null;
  fitInfo: { iterations: number[]; converged: boolean; warnings: string[] };
}

/** Options as JSON (Infinity → null). */
export function optionsToJson(options: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).map(([k, v]) => [k, v === Infinity ? null : v]));
}

/** Options back from JSON (null maxIter → Infinity). */
export function optionsFromJson<O>(options: Record<string, unknown>): Partial<O> {
  return Object.fromEntries(
    Object.entries(options).map(([k, v]) => [k, k === 'maxIter' && v === null ? Infinity : v]),
  ) as Partial<O>;
}

/** Throws CheckpointError unless `json` is an ml-svm document of type `type`. */
export function checkJsonHeader(json: unknown, type: SvmType): asserts json is SvmJson {
  const where = `${type}.fromJSON`;
  if (json === null || typeof json !== 'object')
    throw new CheckpointError(
      `${where}: expected an object from toJSON(), got ${json === null ? 'null' : typeof json}`,
    );
  const j = json as Partial<SvmJson>;
  if (j.format !== 'ml-svm')
    throw new CheckpointError(`${where}: format must be 'ml-svm', got ${JSON.stringify(j.format)}`);
  if (j.version !== 1)
    throw new CheckpointError(`${where}: version must be 1, got ${JSON.stringify(j.version)}`);
  if (j.type !== type)
    throw new CheckpointError(`${where}: the document holds a ${JSON.stringify(j.type)}, not a ${type}`);
  if (j.options === null || typeof j.options !== 'object')
    throw new CheckpointError(`${where}: options must be an object`);
  if (j.model === undefined)
    throw new CheckpointError(`${where}: model is missing (null for an unfitted estimator)`);
}

/** A finite-number array of the given length from a JSON field, or CheckpointError naming the field. */
export function jsonNumbers(
  value: unknown,
  length: number | null,
  field: string,
  where: string,
): Float64Array {
  if (!Array.isArray(value))
    throw new CheckpointError(`${where}: ${field} must be an array of numbers, got ${typeof value}`);
  if (length !== null && value.length !== length)
    throw new CheckpointError(`${where}: ${field} must have ${length} values, got ${value.length}`);
  const out = new Float64Array(value.length);
  value.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new CheckpointError(`${where}: ${field}[${i}] must be a finite number, got ${JSON.stringify(v)}`);
    out[i] = v;
  });
  return out;
}

/** A row-major matrix [rows, cols] from a JSON number[][] field, or CheckpointError naming the field. */
export function jsonRows(
  value: unknown,
  rows: number,
  cols: number,
  field: string,
  where: string,
): Float64Array {
  if (!Array.isArray(value) || value.length !== rows)
    throw new CheckpointError(
      `${where}: ${field} must have ${rows} rows, got ${Array.isArray(value) ? value.length : typeof value}`,
    );
  const out = new Float64Array(rows * cols);
  value.forEach((row, r) => out.set(jsonNumbers(row, cols, `${field}[${r}]`, where), r * cols));
  return out;
}

/** Row-major data as number[][]. */
export function toRows(data: Float64Array, rows: number, cols: number): number[][] {
  return Array.from({ length: rows }, (_, r) => Array.from(data.subarray(r * cols, (r + 1) * cols)));
}
