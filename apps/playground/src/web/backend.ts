// Starts the backend the user picked, through @ml/core's useBackend, and says in plain lines how it
// was chosen (what 'auto' skipped and why, which GPU adapter, where the .wasm binary came from).
import { backendInfo, useBackend } from '@ml/core';

import type { BackendChoice } from './protocol.js';

/** The active backend and the lines that explain the choice. */
export interface StartedBackend {
  backend: string;
  report: string[];
}

/**
 * Activates `choice`; a named backend that cannot start throws @ml/core's BackendError (no silent
 * fallback). `allowFallbackAdapter` lets 'auto' take a software WebGPU adapter such as SwiftShader.
 */
export async function startBackend(
  choice: BackendChoice,
  allowFallbackAdapter: boolean,
): Promise<StartedBackend> {
  const backend = await useBackend(choice, { allowFallbackAdapter });
  const info = backendInfo();
  const report: string[] = [];
  if (info !== null) {
    if (info.requested === 'auto') {
      report.push(`'auto' tried webgpu → webgl → wasm → cpu and picked ${info.name}`);
    }
    for (const skipped of info.tried) {
      // The reasons are BackendError messages ("useBackend: skipped 'webgpu': …"); keep what follows.
      const reason = skipped.reason.replace(/^useBackend[^:]*: (skipped '\w+': )?/, '');
      report.push(`skipped ${skipped.name}: ${reason}`);
    }
    const a = info.adapter;
    if (a !== undefined) {
      const name = [a.vendor, a.architecture, a.device, a.description].filter((s) => s !== '').join(' ');
      report.push(`WebGPU adapter: ${name || 'unnamed'}${a.isFallbackAdapter ? ' (software fallback)' : ''}`);
    }
    const w = info.wasm;
    if (w !== undefined) {
      report.push(`wasm binary: ${w.binary}${w.threads ? ' (multi-threaded)' : ' (single thread)'}`);
    }
  }
  return { backend, report };
}
