import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, test, vi } from 'vitest';

import { expectRejects } from '../test/helpers.js';
import { activeBackend, backendInfo, backendPriority, useBackend } from './backend.js';
import { BackendError } from './errors.js';
import { overrideSimdForTest, overrideVersionsForTest } from './internal/tfjs-seam.js';

// Runs in its own process (vitest forks per file), so the first activation of each backend happens here.

type Nav = { gpu?: unknown };
const globals = globalThis as { navigator?: Nav };

/** Installs a fake `navigator.gpu` whose one adapter has `info` (Node 20 has no navigator). */
function fakeGpu(info: Record<string, unknown>, isFallbackAdapter = false): () => void {
  const before = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  const gpu = {
    requestAdapter: () => Promise.resolve({ info, isFallbackAdapter }),
  };
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  return () => {
    if (before !== undefined) Object.defineProperty(globalThis, 'navigator', before);
    else delete globals.navigator;
  };
}

afterEach(() => {
  overrideVersionsForTest(null);
  overrideSimdForTest(null);
});

describe('useBackend', () => {
  test('before any useBackend, backendInfo() is null', () => {
    expect(backendInfo()).toBeNull();
  });

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
    // In Node tfjs reads the binaries from its own package: no wasmPaths, the SIMD binary.
    expect(backendInfo()).toMatchObject({
      name: 'wasm',
      requested: 'wasm',
      tried: [],
      wasm: { paths: null, binary: 'tfjs-backend-wasm-simd.wasm', threads: false },
    });
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

  test('auto in Node: tries tensorflow → webgpu → wasm and records why it skipped each', async () => {
    expect(backendPriority()).toEqual(['tensorflow', 'webgpu', 'wasm', 'cpu']);
    expect(await useBackend()).toBe('wasm');
    const info = backendInfo()!;
    expect(info.name).toBe('wasm');
    expect(info.requested).toBe('auto');
    expect(info.tried.map((t) => t.name)).toEqual(['tensorflow', 'webgpu']);
    expect(info.tried[0]!.reason).toMatch(/needs @tensorflow\/tfjs-node or -gpu installed/);
    expect(info.tried[1]!.reason).toMatch(
      /needs a WebGPU adapter: no WebGPU here \(navigator.gpu is undefined\)/,
    );
  });

  test('auto skips a software WebGPU adapter (SwiftShader, llvmpipe) and says why', async () => {
    for (const [info, flagged] of [
      [{ vendor: 'google', architecture: 'swiftshader', device: '', description: '' }, false],
      [
        { vendor: 'mesa', architecture: '', device: 'llvmpipe (LLVM 15.0.6, 256 bits)', description: '' },
        false,
      ],
      [{ vendor: 'some', architecture: 'gpu', device: '', description: '' }, true],
    ] as const) {
      const restore = fakeGpu(info, flagged);
      try {
        expect(await useBackend('auto')).toBe('wasm');
        const webgpu = backendInfo()!.tried.find((t) => t.name === 'webgpu');
        expect(webgpu?.reason).toMatch(
          /skipped 'webgpu': the only adapter is a software fallback \(.*\(software fallback\)\), slower than wasm; pass \{ allowFallbackAdapter: true \} or call useBackend\('webgpu'\)/,
        );
      } finally {
        restore();
      }
    }
  });

  test("a software adapter passes the probe when allowed or when 'webgpu' is named", async () => {
    // This fake adapter cannot make a device, so tfjs' own initialisation then fails: what matters is that
    // @ml went past its fallback check (the error is no longer "skipped").
    const restore = fakeGpu({ vendor: 'google', architecture: 'swiftshader' }, true);
    const quiet = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const explicit = await useBackend('webgpu').then(
        () => 'started',
        (e: unknown) => e,
      );
      expect(explicit).toBeInstanceOf(BackendError);
      expect((explicit as Error).message).not.toMatch(/skipped/);
      expect((explicit as Error).message).toMatch(/useBackend: 'webgpu' failed to initialise/);
      expect(await useBackend('auto', { allowFallbackAdapter: true })).toBe('wasm');
      expect(backendInfo()!.tried.find((t) => t.name === 'webgpu')?.reason).toMatch(/failed to initialise/);
      expect(quiet).not.toHaveBeenCalled(); // tfjs' warnings went into the error, not the console
    } finally {
      quiet.mockRestore();
      restore();
    }
    expect(tf.getBackend()).toBe('wasm');
  });

  test('a backend whose package is missing is a BackendError that says what to install', async () => {
    await expectRejects(
      useBackend('tensorflow'),
      BackendError,
      /useBackend: 'tensorflow' needs @tensorflow\/tfjs-node or -gpu installed/,
    );
    await expectRejects(
      useBackend('webgpu'),
      BackendError,
      "useBackend: 'webgpu' needs a WebGPU adapter: no WebGPU here (navigator.gpu is undefined)",
    );
    await expectRejects(useBackend('webgl'), BackendError, "useBackend: 'webgl' needs a browser (WebGL)");
    expect(tf.getBackend()).toBe('wasm');
  });

  test('bad names and options are BackendErrors', async () => {
    await expectRejects(
      useBackend('gpu' as 'cpu'),
      BackendError,
      "useBackend: name must be 'auto' or one of 'tensorflow', 'webgpu', 'webgl', 'wasm', 'cpu', got 'gpu'",
    );
    await expectRejects(
      useBackend('wasm', null as unknown as object),
      BackendError,
      'useBackend: options must be an object, got null',
    );
    await expectRejects(
      useBackend('wasm', { wasmPaths: { 'tfjs-backend-wasm.wasm': '/a.wasm' } }),
      BackendError,
      'useBackend: wasmPaths as a map must give a URL for each of tfjs-backend-wasm.wasm, tfjs-backend-wasm-simd.wasm, tfjs-backend-wasm-threaded-simd.wasm; missing tfjs-backend-wasm-simd.wasm, tfjs-backend-wasm-threaded-simd.wasm',
    );
    await expectRejects(
      useBackend('wasm', { wasmPaths: '' }),
      BackendError,
      'useBackend: wasmPaths must be a URL prefix (a non-empty string) or a map of the three binaries to URLs, got ""',
    );
  });

  test('a tfjs version other than the one the patches were written for is refused, also by auto', async () => {
    overrideVersionsForTest({ '@tensorflow/tfjs-core': '4.21.0' });
    await expectRejects(
      useBackend('cpu'),
      BackendError,
      "useBackend('cpu'): @ml/core's tfjs patches (wasm kernels, gradient fixes, engine internals) were written for TensorFlow.js 4.22.0 exactly, but found @tensorflow/tfjs-core@4.21.0; install @tensorflow/tfjs-core@4.22.0",
    );
    // A setup error, not a missing feature: 'auto' stops instead of falling back to a slower backend.
    await expectRejects(useBackend('auto'), BackendError, /written for TensorFlow\.js 4\.22\.0 exactly/);
    overrideVersionsForTest({ '@tensorflow/tfjs-backend-wasm': '4.20.0' });
    await expectRejects(
      useBackend('wasm'),
      BackendError,
      /but found @tensorflow\/tfjs-backend-wasm@4\.20\.0; install @tensorflow\/tfjs-backend-wasm@4\.22\.0$/,
    );
    overrideVersionsForTest(null);
    expect(await useBackend('wasm')).toBe('wasm');
  });

  test('an engine without wasm SIMD: wasm is a BackendError before any kernel runs; auto falls to cpu', async () => {
    overrideSimdForTest(false);
    await expectRejects(useBackend('wasm'), BackendError, /useBackend: 'wasm' needs WebAssembly SIMD/);
    expect(await useBackend('auto')).toBe('cpu');
    expect(backendInfo()!.tried.find((t) => t.name === 'wasm')?.reason).toMatch(/needs WebAssembly SIMD/);
    overrideSimdForTest(null);
    expect(await useBackend('wasm')).toBe('wasm');
  });
});
