import * as tf from '@tensorflow/tfjs-core';

import { BackendError } from '../errors.js';
import { installGradientFixes } from './gradient-fixes.js';
import { registerChainedOps } from './register-chained-ops.js';
import { TFJS_GRADIENT_CONFIGS } from './tfjs-gradients.generated.js';
import { activeBackendName, installTapeZeros, registeredBackends } from './tfjs-seam.js';

let installed = false;

/**
 * Makes the loaded tfjs-core ready for training, once: registers tfjs' own gradients (tfjs-core's CommonJS
 * build, what plain Node loads, registers none), then @ml's gradient fixes, has the tape hand a
 * multi-output kernel's gradient zeros made by the backend (or null) for outputs no gradient reaches, then
 * registers the chained ops (`t.reshape(s)`, used inside some of tfjs' gradients) that the loaded build
 * lacks. Nothing runs at import; `useBackend` and the first Module or Optimizer call this. Idempotent and
 * cheap after the first call.
 */
export function installTfjsPatches(): void {
  if (installed) return;
  for (const config of TFJS_GRADIENT_CONFIGS as tf.GradConfig[]) {
    // A gradient someone registered already (tfjs-layers, the union `@tensorflow/tfjs` package) stays.
    if (tf.getGradient(config.kernelName) === undefined) tf.registerGradient(config);
  }
  installGradientFixes();
  installTapeZeros();
  registerChainedOps();
  installed = true;
}

/** Whether {@link installTfjsPatches} has run. */
export function tfjsPatchesInstalled(): boolean {
  return installed;
}

/**
 * Throws a BackendError when no tensor backend is active or registered (tfjs would fail later with "No
 * backend found in registry"), and installs the patches training needs. `where` names the caller.
 */
export function requireBackend(where: string): void {
  if (activeBackendName() === null && registeredBackends().length === 0) {
    throw new BackendError(
      `${where}: no tensor backend is active; call useBackend() first (e.g. \`await useBackend()\` from @ml/core)`,
    );
  }
  installTfjsPatches();
}
