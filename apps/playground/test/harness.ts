// The e2e harness: builds the playground once, serves the build with `vite preview` on 127.0.0.1
// (a free port), and drives Debian's Chromium with playwright-core (no browser download).
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';

import { playgroundConfig } from '../src/config.js';

/** The browser the tests drive; CHROMIUM_PATH overrides it. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Flags: headless, WebGPU on (SwiftShader where there is no GPU), no sandbox (root in CI), and no
 * network chatter or first-run UI.
 */
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-gpu-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Fails with the install command when the browser is missing. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `playground e2e: Chromium is not at ${CHROMIUM_PATH}. Install it with \`apt-get install chromium\` (Debian/Ubuntu), or set CHROMIUM_PATH to a Chromium/Chrome binary.`,
    );
  }
}

async function removeWasm(dir: string): Promise<number> {
  let removed = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.wasm')) {
      await rm(join(entry.parentPath, entry.name));
      removed += 1;
    }
  }
  return removed;
}

/** What {@link startHarness} sets up; {@link Harness.close} tears it all down. */
export interface Harness {
  /** URL of the built playground. */
  url: string;
  /** URL of the same build with every .wasm file deleted. */
  noWasmUrl: string;
  context: BrowserContext;
  /** Pages opened so far get closed with the harness. */
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** Builds the site into a temp folder, serves it twice (whole and without .wasm), starts Chromium. */
export async function startHarness(): Promise<Harness> {
  requireChromium();
  const work = await mkdtemp(join(tmpdir(), 'ml-playground-e2e-'));
  const site = join(work, 'site');
  const noWasm = join(work, 'site-no-wasm');
  await build(playgroundConfig({ outDir: site, logLevel: 'warn' }));
  await cp(site, noWasm, { recursive: true });
  if ((await removeWasm(noWasm)) === 0)
    throw new Error(`playground e2e: the build in ${site} has no .wasm file`);

  const servers: PreviewServer[] = [];
  const serve = async (outDir: string): Promise<string> => {
    const server = await preview({
      ...playgroundConfig({ outDir, logLevel: 'warn' }),
      preview: { host: '127.0.0.1', port: 0, strictPort: false },
    });
    servers.push(server);
    const url = server.resolvedUrls?.local[0];
    if (url === undefined) throw new Error('playground e2e: vite preview reported no URL');
    return url;
  };
  const url = await serve(site);
  const noWasmUrl = await serve(noWasm);

  const profile = join(work, 'profile');
  await mkdir(profile);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1000, height: 860 },
    acceptDownloads: true,
  });
  return {
    url,
    noWasmUrl,
    context,
    newPage: () => context.newPage(),
    close: async () => {
      await context.close();
      for (const s of servers) await s.close();
      await rm(work, { recursive: true, force: true });
    },
  };
}
