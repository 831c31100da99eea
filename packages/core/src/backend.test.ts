import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, test, vi } from 'vitest';

import { activeBackend, useBackend } from './backend.js';

// Runs in its own process (vitest forks per file), so the first activation of each backend happens here.
describe('useBackend', () => {
  test("wasm: starts, and leaves no rethrowing process handlers behind (Emscripten's would dump its bundle)", async () => {
    const before = [
      process.listeners('unhandledRejection').length,
      process.listeners('uncaughtException').length,
    ];
    expect(await useBackend('wasm')).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(activeBackend()).toBe('wasm');
    expect([
      process.listeners('unhandledRejection').length,
      process.listeners('uncaughtException').length,
    ]).toEqual(before);
  });

  test('cpu: starts without printing the "use tfjs-node" banner', async () => {
    const warn = vi.spyOn(console, 'warn');
    const log = vi.spyOn(console, 'log');
    try {
      expect(await useBackend('cpu')).toBe('cpu');
      tf.dispose(tf.add(tf.ones([2]), 1));
      expect(warn).not.toHaveBeenCalled();
      expect(log).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
      log.mockRestore();
    }
  });

  test('auto: picks wasm in Node when tfjs-node is absent and there is no WebGPU adapter', async () => {
    expect(await useBackend()).toBe('wasm');
  });

  test('a backend whose package is missing is a BackendError that says what to install', async () => {
    await expect(useBackend('tensorflow')).rejects.toThrow(
      /useBackend: 'tensorflow' needs @tensorflow\/tfjs-node or -gpu installed/,
    );
    await expect(useBackend('webgpu')).rejects.toThrow(/useBackend: 'webgpu' needs a WebGPU adapter/);
    expect(tf.getBackend()).toBe('wasm');
  });
});
