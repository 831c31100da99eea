import { ConfigError } from './errors.js';

// The one home of @ml's argument checks. Every check takes (where, name, value) in that order and
// throws a ConfigError saying where, what must hold and what arrived:
// `Linear: inFeatures must be a positive integer, got 0`. Plain TypeScript: importing it costs no tfjs.

/** Throws a ConfigError unless `value` is an integer > 0. */
export function checkPositiveInt(where: string, name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0)
    throw new ConfigError(`${where}: ${name} must be a positive integer, got ${String(value)}`);
}

/** Throws a ConfigError unless `value` is an integer ≥ 0. */
export function checkNonNegativeInt(where: string, name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
    throw new ConfigError(`${where}: ${name} must be an integer >= 0, got ${String(value)}`);
}

/** Throws a ConfigError unless `value` is a finite number > 0. */
export function checkPositive(where: string, name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new ConfigError(`${where}: ${name} must be a finite number > 0, got ${String(value)}`);
}

/** Throws a ConfigError unless `value` is a finite number ≥ 0. */
export function checkNonNegative(where: string, name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw new ConfigError(`${where}: ${name} must be a finite number >= 0, got ${String(value)}`);
}

/** Throws a ConfigError unless `value` is a finite number in [lo, hi) (or [lo, hi] with `closed`). */
export function checkRange(
  where: string,
  name: string,
  value: unknown,
  lo: number,
  hi: number,
  closed = false,
): asserts value is number {
  const ok =
    typeof value === 'number' && Number.isFinite(value) && value >= lo && (closed ? value <= hi : value < hi);
  if (!ok)
    throw new ConfigError(
      `${where}: ${name} must be in [${lo}, ${hi}${closed ? ']' : ')'}, got ${String(value)}`,
    );
}

/** Throws a ConfigError unless `value` is a probability in [0, 1) (a dropout rate). */
export function checkProbability(where: string, name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !(value >= 0 && value < 1))
    throw new ConfigError(`${where}: ${name} must be in [0, 1), got ${String(value)}`);
}

/** Throws a ConfigError unless `value` is a boolean. */
export function checkBoolean(where: string, name: string, value: unknown): asserts value is boolean {
  if (typeof value !== 'boolean')
    throw new ConfigError(`${where}: ${name} must be a boolean, got ${String(value)}`);
}

/** Throws a ConfigError unless `value` is a non-empty string. */
export function checkNonEmptyString(where: string, name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value === '')
    throw new ConfigError(`${where}: ${name} must be a non-empty string, got ${String(value)}`);
}
