import { ConfigError, DataError } from '@ml/core';
import { MinMaxScaler, StandardScaler } from '@ml/data-loaders';

/** Options of {@link SeriesScaler}. */
export interface SeriesScalerOptions {
  /** 'standard': (x − mean)/std (default); 'minmax': to [0, 1]. */
  kind?: 'standard' | 'minmax';
}

/** Defaults of {@link SeriesScalerOptions}. */
export const DEFAULT_SERIES_SCALER_OPTIONS = { kind: 'standard' } as const;

/**
 * Scaling of a univariate series that must be fitted first, on the training part only, so that no
 * statistic of the validation or test future leaks into training; `inverseTransform` maps
 * predictions back to the original units. The arithmetic is @ml/data-loaders' `StandardScaler` /
 * `MinMaxScaler` (population std, a constant series gets scale 1); this class adds the fit-before-use
 * guard: transforming before `fit` is a DataError.
 */
export class SeriesScaler {
  readonly kind: 'standard' | 'minmax';
  #fitted: StandardScaler | MinMaxScaler | null = null;

  constructor(options: SeriesScalerOptions = {}) {
    const kind = options.kind ?? DEFAULT_SERIES_SCALER_OPTIONS.kind;
    if (kind !== 'standard' && kind !== 'minmax')
      throw new ConfigError(`SeriesScaler: kind must be 'standard' or 'minmax', got ${String(kind)}`);
    this.kind = kind;
  }

  /** True once {@link SeriesScaler.fit} has run. */
  get fitted(): boolean {
    return this.#fitted !== null;
  }

  /** The fitted scaler from @ml/data-loaders (for its state), or null before `fit`. */
  get scaler(): StandardScaler | MinMaxScaler | null {
    return this.#fitted;
  }

  /** Fits to the training values (non-empty, finite); returns this. */
  fit(trainValues: ArrayLike<number>): this {
    this.#fitted =
      this.kind === 'standard'
        ? StandardScaler.fitValues(trainValues, 1)
        : MinMaxScaler.fitValues(trainValues, 1);
    return this;
  }

  /** Scales values (any layout: one feature, elementwise). */
  transform(values: ArrayLike<number>): Float32Array {
    return this.#need('transform').transformValues(values);
  }

  /** Maps scaled values (e.g. predictions) back to the original units. */
  inverseTransform(values: ArrayLike<number>): Float32Array {
    return this.#need('inverseTransform').inverseTransformValues(values);
  }

  /** Factor from scaled to original units of a difference (std, or max − min): RMSE_orig = RMSE · unit. */
  get unit(): number {
    const s = this.#need('unit');
    return s instanceof StandardScaler
      ? (s.std[0] as number)
      : (s.max[0] as number) - (s.min[0] as number) || 1;
  }

  #need(what: string): StandardScaler | MinMaxScaler {
    if (this.#fitted === null)
      throw new DataError(
        `SeriesScaler.${what}: the scaler is not fitted; call fit(trainingValues) on the training part first`,
      );
    return this.#fitted;
  }
}
