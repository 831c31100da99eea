// End-to-end: the built playground in Chromium. Trains on webgpu (a software SwiftShader adapter
// where there is no GPU, allowed explicitly) and on wasm, checks that the loss falls and the page
// stays responsive, compares one forward pass across backends, round-trips a checkpoint, and checks
// that a build missing its .wasm binaries fails with a BackendError that says where it looked.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

import { startHarness, type Harness } from './harness.js';

const APP_DIR = fileURLToPath(new URL('..', import.meta.url));
/** Screenshots and measured rates of each run (out/ is git-ignored). */
const OUT_DIR = join(APP_DIR, 'out', 'e2e');

/**
 * Training steps: webgpu runs on SwiftShader here (a CPU emulating a GPU, a few seconds a step), so it
 * gets fewer. A short warmup (20 steps instead of 200) makes the first steps count.
 */
const STEPS = { webgpu: 16, wasm: 40 };
const WARMUP = '20';
/** The mean loss of the last 5 steps must be below this share of that of the first 3 (seed 0). */
const LOSS_RATIO = 0.93;
/** The forecaster's loss must fall below this share within its steps. */
const FORECASTER_LOSS_RATIO = 0.2;
/**
 * Longest pause of a 10 ms main-thread timer while the worker trains. Training on the main thread
 * would stall it for whole steps; on a loaded 2-core machine the OS alone causes pauses of a few
 * hundred ms.
 */
const MAX_MAIN_THREAD_GAP_MS = 1000;
/** Forward passes of the same model must agree across backends to this absolute tolerance. */
const PARITY_TOLERANCE = 1e-4;

interface Sample {
  step: number;
  loss: number;
}

let harness: Harness;
const rates: Record<string, number> = {};

beforeAll(async () => {
  await mkdir(OUT_DIR, { recursive: true });
  harness = await startHarness();
}, 240_000);

afterAll(async () => {
  await harness?.close();
  if (Object.keys(rates).length > 0)
    await writeFile(join(OUT_DIR, 'steps-per-second.json'), `${JSON.stringify(rates, null, 2)}\n`);
});

// Opens the playground with URL parameters and waits until its worker has a backend (or failed).
async function open(page: Page, base: string, params: Record<string, string>): Promise<string> {
  await page.goto(`${base}?${new URLSearchParams(params).toString()}`);
  await page.waitForFunction(
    () => (document.getElementById('backend-status')?.dataset.backend ?? '') !== '',
    null,
    {
      timeout: 90_000,
    },
  );
  return (await page.getAttribute('#backend-status', 'data-backend')) ?? '';
}

// Collects every page error, so a test can assert there were none.
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return errors;
}

// Records (step, loss) each time the readouts change and the longest gap of a 10 ms main-thread timer.
async function startRecording(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __samples: Sample[]; __maxGap: number; __timer: number };
    w.__samples = [];
    w.__maxGap = 0;
    let last = performance.now();
    w.__timer = window.setInterval(() => {
      const now = performance.now();
      w.__maxGap = Math.max(w.__maxGap, now - last);
      last = now;
    }, 10);
    const loss = document.getElementById('loss') as HTMLElement;
    new MutationObserver(() => {
      const step = Number(document.getElementById('step')?.textContent);
      const value = Number(loss.textContent);
      if (Number.isFinite(step) && Number.isFinite(value)) w.__samples.push({ step, loss: value });
    }).observe(loss, { childList: true, characterData: true, subtree: true });
  });
}

async function stopRecording(page: Page): Promise<{ samples: Sample[]; maxGap: number }> {
  return page.evaluate(() => {
    const w = window as unknown as { __samples: Sample[]; __maxGap: number; __timer: number };
    clearInterval(w.__timer);
    return { samples: w.__samples, maxGap: w.__maxGap };
  });
}

// Presses Translate and waits for the answer (the page shows '…' until it arrives).
async function translate(page: Page): Promise<string> {
  await page.click('#run');
  await page.waitForFunction(
    () => !['', '…'].includes(document.getElementById('output')?.textContent ?? ''),
    null,
    {
      timeout: 30_000,
    },
  );
  return (await page.textContent('#output')) ?? '';
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

// Waits until the step readout reaches `n`; fails early, with what the page shows, if training stops.
async function waitForSteps(page: Page, n: number): Promise<void> {
  await page.waitForFunction(
    (k) =>
      Number(document.getElementById('step')?.textContent) >= k ||
      document.getElementById('train')?.dataset.state === 'stopped',
    n,
    { timeout: 120_000 },
  );
  const shown = await page.evaluate(() =>
    ['backend-status', 'step', 'error']
      .map((id) => `${id}: ${document.getElementById(id)?.textContent}`)
      .join('; '),
  );
  expect(Number(await page.textContent('#step')), shown).toBeGreaterThanOrEqual(n);
}

// Trains `steps` steps, translating once meanwhile if asked; returns what the page showed.
async function trainAndCheck(page: Page, steps: number, translateWhileTraining: boolean) {
  await startRecording(page);
  await page.click('#train');
  let translateMs = NaN;
  if (translateWhileTraining) {
    await page.waitForFunction((n) => Number(document.getElementById('step')?.textContent) >= n / 2, steps, {
      timeout: 120_000,
    });
    // The worker answers between two training steps: a translation request while training.
    const asked = Date.now();
    await page.fill('#input', 'ei bi: si:');
    await translate(page);
    translateMs = Date.now() - asked;
  }
  await page.waitForFunction((n) => Number(document.getElementById('step')?.textContent) >= n, steps, {
    timeout: 120_000,
  });
  const rate = Number(await page.textContent('#rate'));
  const clicked = Date.now();
  await page.click('#train'); // Stop
  await page.waitForSelector('#train[data-state="stopped"]', { timeout: 30_000 });
  const stopMs = Date.now() - clicked;
  const { samples, maxGap } = await stopRecording(page);
  const output = (await page.textContent('#output')) ?? '';
  return { samples, maxGap, rate, translateMs, stopMs, output };
}

function expectLossFalls(samples: Sample[], steps: number, ratio: number): void {
  const first = samples.filter((s) => s.step <= 3).map((s) => s.loss);
  const last = samples.filter((s) => s.step > steps - 5).map((s) => s.loss);
  expect(first.length, 'loss readouts during the first 3 steps').toBeGreaterThan(0);
  expect(last.length, `loss readouts during the last 5 of ${steps} steps`).toBeGreaterThan(0);
  expect(mean(last)).toBeLessThan(ratio * mean(first));
}

describe('playground in Chromium', () => {
  test('auto skips a software WebGPU adapter and says why', async () => {
    const page = await harness.newPage();
    const errors = watchErrors(page);
    const backend = await open(page, harness.url, { backend: 'auto' });
    const fallbackOnly = await page.evaluate(async () => {
      const adapter = await (
        navigator as unknown as {
          gpu?: { requestAdapter(): Promise<{ info?: { isFallbackAdapter?: boolean } } | null> };
        }
      ).gpu?.requestAdapter();
      return adapter == null || adapter.info?.isFallbackAdapter === true;
    });
    const report = (await page.textContent('#backend-report')) ?? '';
    if (fallbackOnly) {
      expect(backend).not.toBe('webgpu');
      expect(['webgl', 'wasm']).toContain(backend);
      expect(report).toMatch(/skipped webgpu: .*(fallback|software)/i);
    } else {
      expect(backend).toBe('webgpu');
    }
    expect(report).toContain(`picked ${backend}`);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  test('trains on webgpu (software adapter allowed): loss falls, page stays responsive', async () => {
    const page = await harness.newPage();
    const errors = watchErrors(page);
    expect(
      await open(page, harness.url, { backend: 'webgpu', allowFallbackAdapter: '1', warmup: WARMUP }),
    ).toBe('webgpu');
    // No translation here: greedy decoding on SwiftShader takes seconds.
    const r = await trainAndCheck(page, STEPS.webgpu, false);
    rates.webgpu = r.rate;
    console.log(
      `webgpu: ${r.rate} steps/s; stop ${r.stopMs} ms; max main-thread gap ${r.maxGap.toFixed(0)} ms`,
    );
    expectLossFalls(r.samples, STEPS.webgpu, LOSS_RATIO);
    expect(r.maxGap).toBeLessThan(MAX_MAIN_THREAD_GAP_MS);
    await page.screenshot({ path: join(OUT_DIR, 'playground-webgpu.png') });
    expect(errors).toEqual([]);
    await page.close();
  }, 240_000);

  test('trains on wasm; a saved checkpoint loads on cpu and translates the same', async () => {
    const page = await harness.newPage();
    const errors = watchErrors(page);
    expect(await open(page, harness.url, { backend: 'wasm', warmup: WARMUP })).toBe('wasm');
    const r = await trainAndCheck(page, STEPS.wasm, true);
    rates.wasm = r.rate;
    expect(r.output).toMatch(/^([a-z]( [a-z])*|\(no letters\))$/);
    console.log(
      `wasm: ${r.rate} steps/s; translation while training ${r.translateMs} ms; stop ${r.stopMs} ms; max main-thread gap ${r.maxGap.toFixed(0)} ms`,
    );
    expectLossFalls(r.samples, STEPS.wasm, LOSS_RATIO);
    expect(r.maxGap).toBeLessThan(MAX_MAIN_THREAD_GAP_MS);
    const shot = join(OUT_DIR, 'playground-wasm.png');
    await page.screenshot({ path: shot });

    // Save: the download is a safetensors file in the translate demo's checkpoint format.
    const step = Number(await page.textContent('#step'));
    await translate(page); // with the final weights
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
    const file = join(OUT_DIR, download.suggestedFilename());
    await download.saveAs(file);
    const bytes = await readFile(file);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as {
      __metadata__: Record<string, string>;
    };
    expect(header.__metadata__.format).toBe('@ml/seq2seq/v1');
    expect(header.__metadata__.step).toBe(String(step));

    // Load it on another backend: the same step, the same translation.
    const before = (await page.textContent('#output')) ?? '';
    const other = await harness.newPage();
    const otherErrors = watchErrors(other);
    expect(await open(other, harness.url, { backend: 'cpu' })).toBe('cpu');
    await other.setInputFiles('#load', file);
    await other.waitForFunction((n) => Number(document.getElementById('step')?.textContent) === n, step);
    await other.fill('#input', 'ei bi: si:');
    await translate(other);
    expect(await other.textContent('#output')).toBe(before);
    expect([...errors, ...otherErrors]).toEqual([]);
    await other.close();
    await page.close();
  }, 240_000);

  test('the LSTM forecaster trains on wasm and draws its forecast', async () => {
    const page = await harness.newPage();
    const errors = watchErrors(page);
    expect(await open(page, harness.url, { backend: 'wasm', task: 'forecaster' })).toBe('wasm');
    await startRecording(page);
    await page.click('#train');
    await waitForSteps(page, STEPS.wasm);
    await page.click('#train'); // Stop: the page then asks for a fresh forecast
    await page.waitForSelector('#train[data-state="stopped"]', { timeout: 30_000 });
    const { samples } = await stopRecording(page);
    expectLossFalls(samples, STEPS.wasm, FORECASTER_LOSS_RATIO);
    await page.waitForFunction(() => Number(document.getElementById('rmse')?.textContent) > 0, null, {
      timeout: 30_000,
    });
    const rmse = Number(await page.textContent('#rmse'));
    console.log(`forecaster on wasm: held-out RMSE ${rmse} after ${STEPS.wasm} steps`);
    expect(rmse).toBeLessThan(0.2); // the series spans about [0.2, 1.4]
    await page.screenshot({ path: join(OUT_DIR, 'playground-forecaster.png') });
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);

  test('the ViT shows a held-out digit with its attention map and trains on wasm', async () => {
    const page = await harness.newPage();
    const errors = watchErrors(page);
    expect(await open(page, harness.url, { backend: 'wasm', task: 'vit' })).toBe('wasm');
    // The page shows the untrained model's view of the first held-out digit (a 0) at once.
    await page.waitForSelector('#digit-result[data-label="0"]', { timeout: 30_000 });
    const painted = await page.evaluate(() => {
      const canvas = document.getElementById('digit') as HTMLCanvasElement;
      const data = (canvas.getContext('2d') as CanvasRenderingContext2D).getImageData(
        0,
        0,
        canvas.width,
        canvas.height,
      ).data;
      let red = 0;
      for (let i = 0; i < data.length; i += 4) if ((data[i] as number) > (data[i + 1] as number) + 20) red++;
      return red;
    });
    expect(painted, 'pixels tinted red by the attention map').toBeGreaterThan(100);
    await page.click('#train');
    await page.waitForFunction(() => Number(document.getElementById('step')?.textContent) >= 5, null, {
      timeout: 60_000,
    });
    await page.click('#train');
    await page.waitForSelector('#train[data-state="stopped"]', { timeout: 30_000 });
    // After stopping, the page asks for the next digit (a 1).
    await page.waitForSelector('#digit-result[data-label="1"]', { timeout: 30_000 });
    await page.screenshot({ path: join(OUT_DIR, 'playground-vit.png') });
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  test('one forward pass of each model gives the same numbers on webgpu, webgl, wasm and cpu', async () => {
    const page = await harness.newPage();
    const errors = watchErrors(page);
    for (const task of ['translator', 'vit', 'forecaster']) {
      await open(page, harness.url, { backend: 'cpu', task });
      await page.click('#compare-backends');
      await page.waitForSelector('#compare-table[data-state="done"]', { timeout: 120_000 });
      const rows = await page.$$eval('#compare-table tbody tr', (trs) =>
        trs.map((tr) => ({
          backend: (tr as HTMLElement).dataset.backend,
          maxDiff: (tr as HTMLElement).dataset.maxDiff,
          text: tr.textContent,
        })),
      );
      console.log(
        `${task} forward-pass parity: ${rows.map((r) => `${r.backend} ${r.maxDiff ?? r.text}`).join('; ')}`,
      );
      expect(rows.map((r) => r.backend)).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
      for (const row of rows) {
        expect(row.maxDiff, `${task} on ${row.backend}: ${row.text}`).toBeDefined();
        expect(Number(row.maxDiff), `${task} on ${row.backend}`).toBeLessThanOrEqual(PARITY_TOLERANCE);
      }
    }
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);

  test('a build without its .wasm files fails with a BackendError saying where it looked', async () => {
    const page = await harness.newPage();
    expect(await open(page, harness.noWasmUrl, { backend: 'wasm' })).toBe('failed');
    const error = (await page.textContent('#error')) ?? '';
    expect(error).toMatch(/^BackendError: /);
    expect(error).toMatch(/https?:\/\/127\.0\.0\.1:\d+\/\S*\.wasm/); // the URL it fetched
    expect(error).toMatch(/wasmPaths|mlBackends/); // how to fix it
    expect(await page.textContent('#backend-status')).not.toContain('cpu');
    await page.close();
  }, 120_000);
});
