import { ConfigError } from '@ml/core';

import type { FitContext } from '../callback.js';
import type { Logs } from '../history.js';

/** 'min' when lower is better, 'max' when higher is, 'auto' to guess from the name. */
export type MonitorMode = 'min' | 'max' | 'auto';

// Keras' rule for 'auto', extended to the metrics of this package.
const HIGHER_IS_BETTER = /acc|r2|auc|precision|recall|f1/i;

/** Resolves 'auto' from the monitored key: accuracy-like names are maximised, everything else minimised. */
export function resolveMode(where: string, monitor: string, mode: MonitorMode): 'min' | 'max' {
  if (mode !== 'min' && mode !== 'max' && mode !== 'auto')
    throw new ConfigError(`${where}: mode must be 'min', 'max' or 'auto', got '${String(mode)}'`);
  if (typeof monitor !== 'string' || monitor === '')
    throw new ConfigError(`${where}: monitor must be a log key such as 'val_loss', got ${String(monitor)}`);
  if (mode !== 'auto') return mode;
  return HIGHER_IS_BETTER.test(monitor.replace(/^val_/, '')) ? 'max' : 'min';
}

/** True when `value` improves on `best` by more than `minDelta` in direction `mode`. */
export function improves(mode: 'min' | 'max', value: number, best: number | null, minDelta: number): boolean {
  if (!Number.isFinite(value)) return false;
  if (best === null) return true;
  return mode === 'min' ? value < best - minDelta : value > best + minDelta;
}

/** True when `monitor` is read after validations (a `val_` key) rather than after epochs. */
export function watchesValidation(monitor: string): boolean {
  return monitor.startsWith('val_');
}

/**
 * The monitored value in `logs`, or a ConfigError naming the keys there are (a `val_` key without a
 * valLoader, or a typo).
 */
export function monitored(where: string, monitor: string, logs: Logs): number {
  const value = logs[monitor];
  if (value === undefined) {
    const hint = watchesValidation(monitor) ? ' (val_ keys need a valLoader in fit)' : '';
    throw new ConfigError(
      `${where}: monitor '${monitor}' is not in the logs${hint}; available: ${Object.keys(logs).join(', ')}`,
    );
  }
  return value;
}

/** A `val_` monitor needs fit to have a valLoader. */
export function checkMonitorHasValidation(where: string, monitor: string, ctx: FitContext): void {
  if (watchesValidation(monitor) && !ctx.hasValidation) {
    throw new ConfigError(`${where}: monitor '${monitor}' needs validation, but fit has no valLoader`);
  }
}
