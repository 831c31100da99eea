import { withoutTape } from './internal/tfjs-seam.js';

/**
 * Runs `fn` without recording its ops on the gradient tape, like `torch.no_grad()`: tensors it
 * creates are constants to any surrounding `tf.grad`/`tf.variableGrads`, and the tape keeps none of
 * their inputs alive. Used for bookkeeping inside a forward pass (BatchNorm's running statistics).
 * It does not open a `tf.tidy` scope; wrap it in one when `fn` creates intermediates.
 */
export function noGrad<T>(fn: () => T): T {
  return withoutTape(fn);
}
