#!/usr/bin/env node
// Training speed of the built playground in Chromium, per backend: opens the page on each backend,
// trains a few warm-up steps, then reads the step counter over a fixed number of steps.
//   pnpm --filter playground build && node apps/playground/bench/steps-per-second.mjs [--screenshot FILE]
// --screenshot saves the page after the wasm translator run (the README's screenshot).
/* global console, process, document */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { chromium } from 'playwright-core';
import { preview } from 'vite';

const APP_DIR = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { screenshot: { type: 'string' } } });

// [URL parameters, warm-up steps, measured steps]
const RUNS = [
  ['task=translator&backend=wasm', 5, 400],
  ['task=translator&backend=webgpu&allowFallbackAdapter=1', 3, 6],
  ['task=translator&backend=webgl', 3, 10],
  ['task=translator&backend=cpu', 3, 10],
  ['task=vit&backend=wasm', 3, 40],
  ['task=forecaster&backend=wasm', 3, 100],
];

const server = await preview({
  configFile: false,
  root: APP_DIR,
  base: './',
  logLevel: 'warn',
  build: { outDir: join(APP_DIR, 'dist') },
  preview: { host: '127.0.0.1', port: 0 },
});
const url = server.resolvedUrls.local[0];
const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'ml-playground-bench-')), {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1000, height: 860 },
  args: [
    '--headless=new',
    '--no-sandbox',
    '--enable-unsafe-webgpu',
    '--disable-gpu-sandbox',
    '--no-first-run',
  ],
});
const reached = (page, n) =>
  page.waitForFunction((k) => Number(document.getElementById('step').textContent) >= k, n, {
    timeout: 900_000,
  });

for (const [params, warmup, steps] of RUNS) {
  const page = await context.newPage();
  await page.goto(`${url}?${params}`);
  await page.waitForFunction(
    () => (document.getElementById('backend-status').dataset.backend ?? '') !== '',
    null,
    {
      timeout: 120_000,
    },
  );
  const backend = await page.getAttribute('#backend-status', 'data-backend');
  await page.click('#train');
  await reached(page, warmup);
  const s0 = Number(await page.textContent('#step'));
  const t0 = Date.now();
  await reached(page, warmup + steps);
  const s1 = Number(await page.textContent('#step'));
  const seconds = (Date.now() - t0) / 1000;
  await page.click('#train');
  await page.waitForSelector('#train[data-state="stopped"]');
  let shows = '';
  if (params.includes('translator')) {
    await page.click('#run');
    await page.waitForFunction(() => !['', '…'].includes(document.getElementById('output').textContent));
    shows = `"ei bi: si:" → ${await page.textContent('#output')}`;
    if (backend === 'wasm' && values.screenshot !== undefined)
      await page.screenshot({ path: values.screenshot });
  }
  const rate = ((s1 - s0) / seconds).toFixed(2);
  console.log(
    `${params}: ${backend}, ${s1 - s0} steps in ${seconds.toFixed(1)} s = ${rate} steps/s; loss ${await page.textContent('#loss')} ${shows}`,
  );
  await page.close();
}
await context.close();
await server.close();
