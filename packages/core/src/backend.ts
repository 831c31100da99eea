import * as tf from '@tensorflow/tfjs-core';

import { BackendError } from './errors.js';
import './internal/register-gradients.js';
import { installWasmKernels } from './internal/wasm-kernels.js';

/** Backends @ml knows how to load. `tensorflow` is tfjs-node or tfjs-node-gpu. */
export type BackendName = 'tensorflow' | 'webgpu' | 'webgl' | 'wasm' | 'cpu';

/** The order `useBackend('auto')` tries backends in: fastest first. */
export const BACKEND_PRIORITY: readonly BackendName[] = ['tensorflow', 'webgpu', 'wasm', 'cpu'];

const KNOWN: readonly BackendName[] = ['tensorflow', 'webgpu', 'webgl', 'wasm', 'cpu'];

// Optional peers are imported by a name held in a variable so that bundlers and TypeScript do not
// require them to be installed.
async function importOptional(specifier: string): Promise<unknown> {
  return import(/* @vite-ignore */ specifier);
}

async function hasWebGpuAdapter(): Promise<boolean> {
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator?.gpu;
  if (gpu === undefined) return false;
  try {
    return (await gpu.requestAdapter()) != null;
  } catch {
    return false;
  }
}

// Imports the package that registers `name` with tfjs; throws a BackendError saying why it can't.
async function loadBackendModule(name: BackendName): Promise<void> {
  if (tf.findBackendFactory(name) !== null) return;
  switch (name) {
    case 'cpu':
      await import('@tensorflow/tfjs-backend-cpu');
      return;
    case 'wasm':
      await import('@tensorflow/tfjs-backend-wasm');
      return;
    case 'tensorflow': {
      const errors: string[] = [];
      for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
        try {
          await importOptional(pkg);
          return;
        } catch (e) {
          errors.push(`${pkg}: ${(e as Error).message.split('\n')[0]}`);
        }
      }
      throw new BackendError(
        `useBackend: 'tensorflow' needs @tensorflow/tfjs-node or -gpu installed (${errors.join('; ')})`,
      );
    }
    case 'webgpu':
      if (!(await hasWebGpuAdapter()))
        throw new BackendError(
          "useBackend: 'webgpu' needs a WebGPU adapter (navigator.gpu), and none was found",
        );
      try {
        await importOptional('@tensorflow/tfjs-backend-webgpu');
      } catch (e) {
        throw new BackendError(
          `useBackend: 'webgpu' needs @tensorflow/tfjs-backend-webgpu installed (${(e as Error).message})`,
        );
      }
      return;
    case 'webgl':
      try {
        await importOptional('@tensorflow/tfjs-backend-webgl');
      } catch (e) {
        throw new BackendError(
          `useBackend: 'webgl' needs @tensorflow/tfjs-backend-webgl installed (${(e as Error).message})`,
        );
      }
      return;
  }
}

type ProcessLike = {
  listeners(event: string): unknown[];
  removeListener(event: string, fn: unknown): void;
};

// The wasm backend's Emscripten runtime adds process-wide 'unhandledRejection' and 'uncaughtException'
// handlers that rethrow, so Node prints the error's "source line": the backend's whole minified bundle.
// Removing the handlers it added restores Node's own (equally fatal, readable) behaviour.
function keepProcessHandlers(): () => void {
  const proc = (globalThis as { process?: ProcessLike }).process;
  if (proc === undefined || typeof proc.listeners !== 'function') return () => {};
  const events = ['unhandledRejection', 'uncaughtException'];
  const before = new Map(events.map((e) => [e, new Set(proc.listeners(e))]));
  return () => {
    for (const e of events) {
      for (const fn of proc.listeners(e)) if (!before.get(e)?.has(fn)) proc.removeListener(e, fn);
    }
  };
}

async function activate(name: BackendName): Promise<void> {
  await loadBackendModule(name);
  // The kernels wasm lacks for training (and faster matMul/conv backprops); idempotent.
  if (name === 'wasm') installWasmKernels();
  let ok: boolean;
  const restoreHandlers = name === 'wasm' ? keepProcessHandlers() : () => {};
  try {
    ok = await tf.setBackend(name);
  } catch (e) {
    throw new BackendError(`useBackend: '${name}' failed to initialise: ${(e as Error).message}`, {
      cause: e,
    });
  } finally {
    restoreHandlers();
  }
  // tf.setBackend returns false (and stays on the old backend) instead of throwing.
  if (!ok || tf.getBackend() !== name) {
    throw new BackendError(
      `useBackend: tf.setBackend('${name}') returned false; the active backend is still '${tf.getBackend()}'`,
    );
  }
  await tf.ready();
  if (name === 'cpu') quietFirstUse();
}

// tfjs-backend-cpu prints a "use tfjs-node" banner on its first tensor in Node; libraries must not print,
// and the user chose cpu on purpose. The banner is skipped when tfjs' PROD flag is set, so set it for that
// first write only.
function quietFirstUse(): void {
  const env = tf.env();
  const prod = env.getBool('PROD');
  env.set('PROD', true);
  try {
    tf.dispose(tf.zeros([1]));
  } finally {
    env.set('PROD', prod);
  }
}

/**
 * Activates a tensor backend and returns the name actually active. `'auto'` (the default) tries
 * {@link BACKEND_PRIORITY} in order — tensorflow (if installed) → webgpu (if an adapter exists) → wasm →
 * cpu — and takes the first that starts. A named backend that cannot start throws a `BackendError`
 * with the reason; @ml never silently falls back.
 */
export async function useBackend(name: BackendName | 'auto' = 'auto'): Promise<BackendName> {
  if (name !== 'auto' && !KNOWN.includes(name)) {
    throw new BackendError(
      `useBackend: name must be 'auto' or one of ${KNOWN.map((k) => `'${k}'`).join(', ')}, got '${String(name)}'`,
    );
  }
  if (name !== 'auto') {
    await activate(name);
    return name;
  }
  const failures: string[] = [];
  for (const candidate of BACKEND_PRIORITY) {
    try {
      await activate(candidate);
      return candidate;
    } catch (e) {
      failures.push((e as Error).message);
    }
  }
  throw new BackendError(`useBackend('auto'): no backend could start:\n${failures.join('\n')}`);
}

/** The name of the active backend, or null before any has been chosen. */
export function activeBackend(): string | null {
  return tf.engine().backendName ?? null;
}
