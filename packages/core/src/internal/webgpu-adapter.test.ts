import { describe, expect, test } from 'vitest';

import { adapterLabel, describeAdapter, probeWebGl, probeWebGpuAdapter } from './webgpu-adapter.js';

// How useBackend tells hardware GPUs from software ones (which 'auto' skips for wasm).
describe('GPU probes', () => {
  test('WebGPU: software adapters are flagged by isFallbackAdapter or by their name', async () => {
    const hw = await describeAdapter({ info: { vendor: 'nvidia', architecture: 'hopper' } });
    expect(hw.isFallbackAdapter).toBe(false);
    expect(adapterLabel(hw)).toBe('nvidia hopper');
    const swift = await describeAdapter({ info: { vendor: 'google', architecture: 'swiftshader' } });
    expect(adapterLabel(swift)).toBe('google swiftshader (software fallback)');
    expect((await describeAdapter({ isFallbackAdapter: true, info: {} })).isFallbackAdapter).toBe(true);
    expect((await describeAdapter({ info: { isFallbackAdapter: true } })).isFallbackAdapter).toBe(true);
    // Older browsers: no `info`, only requestAdapterInfo().
    const old = await describeAdapter({
      requestAdapterInfo: () => Promise.resolve({ device: 'llvmpipe (LLVM 15)' }),
    });
    expect(old.isFallbackAdapter).toBe(true);
  });

  test('WebGPU: no navigator.gpu, no adapter, or a failing request each say why', async () => {
    expect(await probeWebGpuAdapter(undefined)).toBe('no WebGPU here (navigator.gpu is undefined)');
    expect(await probeWebGpuAdapter({ requestAdapter: () => Promise.resolve(null) })).toBe(
      'navigator.gpu.requestAdapter() found no adapter',
    );
    expect(await probeWebGpuAdapter({ requestAdapter: () => Promise.reject(new Error('blocked')) })).toBe(
      'navigator.gpu.requestAdapter() failed: blocked',
    );
  });

  test('WebGL: the unmasked renderer name decides whether it is software', () => {
    const gl = (vendor: string, renderer: string) => () => ({
      getExtension: () => ({ UNMASKED_VENDOR_WEBGL: 1, UNMASKED_RENDERER_WEBGL: 2 }),
      getParameter: (p: number) => (p === 1 ? vendor : renderer),
      RENDERER: 3,
      VENDOR: 4,
    });
    expect(
      probeWebGl(gl('Google Inc. (Google)', 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device))')),
    ).toEqual({
      renderer: 'Google Inc. (Google) ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device))',
      software: true,
    });
    expect(probeWebGl(gl('Mesa', 'llvmpipe (LLVM 15.0.6, 256 bits)'))).toMatchObject({ software: true });
    expect(probeWebGl(gl('NVIDIA Corporation', 'NVIDIA H100/PCIe/SSE2'))).toMatchObject({ software: false });
    expect(probeWebGl(() => null)).toBe('no WebGL context could be created');
    expect(
      probeWebGl(() => {
        throw new Error('context lost');
      }),
    ).toBe('creating a WebGL context failed: context lost');
  });
});
