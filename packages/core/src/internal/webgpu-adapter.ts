// Finds a WebGPU adapter and tells a hardware one from a software fallback (Chrome's SwiftShader, Mesa's
// llvmpipe/lavapipe under Dawn), which emulates the GPU on the CPU and trains slower than wasm.

/** What @ml reports about the WebGPU adapter it probed. */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for a software (CPU-emulated) adapter. */
  isFallbackAdapter: boolean;
}

interface GpuAdapterLike {
  isFallbackAdapter?: boolean;
  info?: Partial<AdapterInfo>;
  requestAdapterInfo?: () => Promise<Partial<AdapterInfo>>;
}

interface GpuLike {
  requestAdapter(options?: { powerPreference?: string }): Promise<GpuAdapterLike | null>;
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render/i;

/** The adapter's description, with `isFallbackAdapter` also set for known software renderers. */
export async function describeAdapter(adapter: GpuAdapterLike): Promise<AdapterInfo> {
  let info: Partial<AdapterInfo> = adapter.info ?? {};
  if (adapter.info === undefined && typeof adapter.requestAdapterInfo === 'function') {
    try {
      info = await adapter.requestAdapterInfo();
    } catch {
      info = {};
    }
  }
  const out = {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
  };
  const flagged = adapter.isFallbackAdapter === true || info.isFallbackAdapter === true;
  const software = SOFTWARE.test(Object.values(out).join(' '));
  return { ...out, isFallbackAdapter: flagged || software };
}

/** One line naming the adapter: `google swiftshader (fallback)`. */
export function adapterLabel(a: AdapterInfo): string {
  const name =
    [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' ') || 'unnamed adapter';
  return a.isFallbackAdapter ? `${name} (software fallback)` : name;
}

/**
 * Requests the default WebGPU adapter from `navigator.gpu` (the browser's, or one a Node program installed
 * from the `webgpu` package). Returns its description, or a string saying why there is none.
 */
export async function probeWebGpuAdapter(gpu: unknown = webGpuEntry()): Promise<AdapterInfo | string> {
  if (gpu === undefined || gpu === null) return 'no WebGPU here (navigator.gpu is undefined)';
  let adapter: GpuAdapterLike | null;
  try {
    adapter = await (gpu as GpuLike).requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return `navigator.gpu.requestAdapter() failed: ${(e as Error).message}`;
  }
  if (adapter === null) return 'navigator.gpu.requestAdapter() found no adapter';
  return describeAdapter(adapter);
}

function webGpuEntry(): unknown {
  return (globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu;
}

interface GlLike {
  getExtension(name: string): { UNMASKED_RENDERER_WEBGL: number; UNMASKED_VENDOR_WEBGL: number } | null;
  getParameter(p: number): unknown;
  RENDERER: number;
  VENDOR: number;
}

/**
 * The WebGL renderer's name and whether it is a software one (SwiftShader, llvmpipe), read through a 1×1
 * canvas; a string says why there is no WebGL context.
 */
export function probeWebGl(
  makeContext: () => GlLike | null = defaultWebGlContext,
): { renderer: string; software: boolean } | string {
  let gl: GlLike | null;
  try {
    gl = makeContext();
  } catch (e) {
    return `creating a WebGL context failed: ${(e as Error).message}`;
  }
  if (gl === null) return 'no WebGL context could be created';
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(
    (gl.getParameter(debug?.UNMASKED_RENDERER_WEBGL ?? gl.RENDERER) as string | null) ?? '',
  );
  const vendor = String((gl.getParameter(debug?.UNMASKED_VENDOR_WEBGL ?? gl.VENDOR) as string | null) ?? '');
  const name = [vendor, renderer].filter(Boolean).join(' ') || 'unnamed renderer';
  return { renderer: name, software: SOFTWARE.test(name) };
}

function defaultWebGlContext(): GlLike | null {
  const g = globalThis as {
    OffscreenCanvas?: new (w: number, h: number) => { getContext(kind: string): unknown };
    document?: { createElement(tag: string): { getContext(kind: string): unknown } };
  };
  const canvas =
    g.OffscreenCanvas !== undefined
      ? new g.OffscreenCanvas(1, 1)
      : g.document !== undefined
        ? g.document.createElement('canvas')
        : null;
  if (canvas === null) return null;
  return (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as GlLike | null;
}
