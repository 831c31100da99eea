/**
 * Base class of every error @ml throws on purpose. Subclasses name the kind of mistake; messages say
 * where it happened, what must hold, and what arrived.
 */
export class MlError extends Error {
  // Names are string literals, not `constructor.name`, so they survive minification in bundled pages.
  override name = 'MlError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A constructor or function option is invalid: `MultiHeadAttention: dim (10) must be divisible by heads (3)`. */
export class ConfigError extends MlError {
  override name = 'ConfigError';
}

/** A tensor or array arrived with the wrong shape or rank: `Linear: input last dim must be 64, got [8, 32]`. */
export class ShapeError extends MlError {
  override name = 'ShapeError';
}

/** Data is malformed or out of range: a truncated file, a label ≥ numClasses, a NaN where none may be. */
export class DataError extends MlError {
  override name = 'DataError';
}

/** A checkpoint or state dict cannot be read or does not fit the model it is loaded into. */
export class CheckpointError extends MlError {
  override name = 'CheckpointError';
}

/** A tensor backend cannot be loaded or activated. */
export class BackendError extends MlError {
  override name = 'BackendError';
}

/** Formats a shape for error messages: `[8, 32]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
