// The page: controls, live charts and readouts. All tensor work happens in the worker (worker.ts);
// this file only sends requests and draws replies, so the page stays responsive while training.
import { ForecastChart, LiveChart } from './charts.js';
import type { BackendChoice, MetricInfo, Reply, Request, TaskName, TaskView } from './protocol.js';
import { TASKS } from './task-names.js';

const BACKENDS: readonly BackendChoice[] = ['auto', 'webgpu', 'webgl', 'wasm', 'cpu'];
// The backends "Compare backends" runs, and the one the others are compared with.
const COMPARED: readonly BackendChoice[] = ['webgpu', 'webgl', 'wasm', 'cpu'];
const REFERENCE: BackendChoice = 'cpu';

function $<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`page: #${id} is missing from index.html`);
  return el as T;
}

const ui = {
  task: $<HTMLSelectElement>('task'),
  backend: $<HTMLSelectElement>('backend'),
  allowFallback: $<HTMLInputElement>('allow-fallback'),
  seed: $<HTMLInputElement>('seed'),
  warmup: $<HTMLInputElement>('warmup'),
  warmupLabel: $('warmup-label'),
  backendStatus: $('backend-status'),
  backendReport: $<HTMLUListElement>('backend-report'),
  train: $<HTMLButtonElement>('train'),
  step: $('step'),
  rate: $('rate'),
  loss: $('loss'),
  metricName: $('metric-name'),
  metric: $('metric'),
  lr: $('lr'),
  save: $<HTMLButtonElement>('save'),
  load: $<HTMLInputElement>('load'),
  model: $('model'),
  runForm: $<HTMLFormElement>('run-form'),
  input: $<HTMLInputElement>('input'),
  run: $<HTMLButtonElement>('run'),
  output: $<HTMLOutputElement>('output'),
  tryTranslator: $('try-translator'),
  tryForecaster: $('try-forecaster'),
  tryVit: $('try-vit'),
  nextDigit: $<HTMLButtonElement>('next-digit'),
  digitResult: $('digit-result'),
  digit: $<HTMLCanvasElement>('digit'),
  forecast: $<HTMLButtonElement>('forecast'),
  rmse: $('rmse'),
  compare: $<HTMLButtonElement>('compare-backends'),
  compareTable: $<HTMLTableElement>('compare-table'),
  error: $('error'),
};

const LOSS_CHART = { title: 'Training loss', label: 'loss', color: '#d9480f' };
const METRIC_COLOR = '#1c7ed6';
const charts = {
  loss: new LiveChart($('loss-chart'), LOSS_CHART),
  metric: new LiveChart($('metric-chart'), { title: 'metric', label: 'metric', color: METRIC_COLOR }),
  forecast: new ForecastChart($('forecast-chart')),
};
// What the translation shows when the model answers with no letter at all.
const NO_LETTERS = '(no letters)';
// Shown while a translation is on its way.
const PENDING = '…';
// How often the forecast is redrawn while the forecaster trains.
const FORECAST_EVERY_MS = 2000;
let metricInfo: MetricInfo = { label: 'metric' };

function resetCharts(): void {
  charts.loss.reset(LOSS_CHART);
  charts.metric.reset({
    title: metricInfo.label,
    label: 'metric',
    color: METRIC_COLOR,
    range: metricInfo.range,
  });
}

function newWorker(): Worker {
  return new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'ml-playground' });
}

function send(worker: Worker, request: Request, transfer: Transferable[] = []): void {
  worker.postMessage(request, transfer);
}

function initRequest(backend: BackendChoice): Request {
  return {
    type: 'init',
    task: ui.task.value as TaskName,
    backend,
    allowFallbackAdapter: ui.allowFallback.checked,
    seed: Math.max(0, Math.trunc(Number(ui.seed.value) || 0)),
    warmup: Math.max(1, Math.trunc(Number(ui.warmup.value) || 200)),
  };
}

function showError(name: string, message: string): void {
  ui.error.textContent = `${name}: ${message}`;
}

// ---- the training worker ----

let worker: Worker | null = null;
let training = false;

function setReady(ready: boolean): void {
  for (const el of [ui.train, ui.save, ui.load, ui.run, ui.forecast, ui.nextDigit]) el.disabled = !ready;
}

function setTraining(on: boolean, step: number): void {
  training = on;
  ui.train.textContent = on ? 'Stop' : step > 0 ? 'Resume' : 'Train';
  ui.train.dataset.state = on ? 'training' : 'stopped';
}

function showTaskPanel(): void {
  ui.tryTranslator.hidden = ui.task.value !== 'translator';
  ui.tryForecaster.hidden = ui.task.value !== 'forecaster';
  ui.tryVit.hidden = ui.task.value !== 'vit';
  ui.warmupLabel.hidden = ui.task.value !== 'translator';
}

function startWorker(): void {
  worker?.terminate();
  showTaskPanel();
  resetCharts();
  setReady(false);
  setTraining(false, 0);
  ui.error.textContent = '';
  ui.backendReport.replaceChildren();
  ui.backendStatus.textContent = `starting ${ui.backend.value}…`;
  ui.backendStatus.dataset.backend = '';
  for (const el of [ui.step, ui.rate, ui.loss, ui.metric, ui.lr, ui.rmse, ui.output]) el.textContent = '–';
  ui.output.textContent = '';
  const w = newWorker();
  worker = w;
  w.onmessage = (event: MessageEvent<Reply>) => onReply(event.data);
  w.onerror = (event) => {
    showError('Error', `the training worker failed: ${event.message}`);
    ui.backendStatus.textContent = 'the training worker failed to start';
    ui.backendStatus.dataset.backend = 'failed';
  };
  send(w, initRequest(ui.backend.value as BackendChoice));
}

function onReply(reply: Reply): void {
  switch (reply.type) {
    case 'ready':
      ui.backendStatus.textContent = `backend: ${reply.backend}`;
      ui.backendStatus.dataset.backend = reply.backend;
      ui.backendReport.replaceChildren(
        ...reply.report.map((line) => Object.assign(document.createElement('li'), { textContent: line })),
      );
      ui.model.textContent = reply.model;
      ui.step.textContent = String(reply.step);
      metricInfo = reply.metric;
      ui.metricName.textContent = reply.metric.label.replace(/ \(.*\)$/, '');
      resetCharts();
      setReady(true);
      // The untrained model's forecast or digit, to compare with later.
      if (reply.task !== 'translator' && worker !== null) send(worker, { type: 'view', input: '' });
      return;
    case 'progress':
      for (const p of reply.points) {
        charts.loss.push(p.step, p.loss);
        charts.metric.push(p.step, p.metric);
      }
      {
        const last = reply.points.at(-1);
        if (last !== undefined) {
          ui.step.textContent = String(last.step);
          ui.loss.textContent = last.loss.toFixed(3);
          ui.metric.textContent = last.metric.toFixed(3);
        }
      }
      ui.rate.textContent = reply.stepsPerSecond.toFixed(1);
      ui.lr.textContent = reply.lr.toExponential(2);
      return;
    case 'stopped':
      setTraining(false, reply.step);
      if (ui.task.value !== 'translator' && worker !== null) send(worker, { type: 'view', input: '' });
      return;
    case 'view':
      showView(reply.view);
      return;
    case 'saved': {
      const url = URL.createObjectURL(
        new Blob([reply.bytes as BlobPart], { type: 'application/octet-stream' }),
      );
      const a = Object.assign(document.createElement('a'), { href: url, download: reply.fileName });
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      return;
    }
    case 'loaded':
      resetCharts();
      ui.step.textContent = String(reply.step);
      ui.model.textContent = `${reply.model} (loaded from a checkpoint)`;
      setTraining(false, reply.step);
      return;
    case 'probe':
      return;
    case 'error':
      showError(reply.name, reply.message);
      if (reply.during === 'init') {
        ui.backendStatus.textContent = `backend: failed to start ${ui.backend.value}`;
        ui.backendStatus.dataset.backend = 'failed';
      }
      if (reply.during === 'train') setTraining(false, Number(ui.step.textContent) || 0);
      return;
  }
}

function showView(view: TaskView): void {
  switch (view.kind) {
    case 'text':
      ui.output.textContent = view.output === '' ? NO_LETTERS : view.output;
      return;
    case 'forecast':
      charts.forecast.show(view.index, view.truth, view.predicted);
      ui.rmse.textContent = view.rmse.toFixed(4);
      return;
    case 'digit':
      drawDigit(view);
      return;
  }
}

// The digit in grey, each patch tinted red by its share of the attention that reaches [class].
function drawDigit(view: Extract<TaskView, { kind: 'digit' }>): void {
  const ctx = ui.digit.getContext('2d');
  if (ctx === null) return;
  const image = new ImageData(28, 28);
  view.pixels.forEach((v, i) => {
    image.data.set([v, v, v, 255], i * 4);
  });
  const small = new OffscreenCanvas(28, 28);
  small.getContext('2d')?.putImageData(image, 0, 0);
  const size = ui.digit.width;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(small, 0, 0, size, size);
  // Scaled from the least to the most attended patch, so the map shows contrast even when flat.
  const max = Math.max(...view.attention);
  const min = Math.min(...view.attention);
  const cell = size / view.grid;
  view.attention.forEach((a, i) => {
    ctx.fillStyle = `rgba(230, 30, 30, ${max > min ? (0.6 * (a - min)) / (max - min) : 0})`;
    ctx.fillRect((i % view.grid) * cell, Math.floor(i / view.grid) * cell, cell, cell);
  });
  ui.digitResult.textContent = `digit ${view.label} → predicted ${view.predicted} (${(100 * view.probability).toFixed(0)} %)`;
  ui.digitResult.dataset.label = String(view.label);
  ui.digitResult.dataset.predicted = String(view.predicted);
}

// Keeps the forecast current while the forecaster trains.
setInterval(() => {
  if (training && worker !== null && ui.task.value === 'forecaster')
    send(worker, { type: 'view', input: '' });
}, FORECAST_EVERY_MS);

// ---- comparing backends ----

// Runs init + probe in a worker of its own; resolves with the logits or the error the worker reported.
function probe(backend: BackendChoice): Promise<{ values: Float32Array } | { error: string }> {
  return new Promise((resolve) => {
    const w = newWorker();
    const done = (result: { values: Float32Array } | { error: string }) => {
      w.terminate();
      resolve(result);
    };
    w.onerror = (event) => done({ error: `Error: ${event.message}` });
    w.onmessage = (event: MessageEvent<Reply>) => {
      const reply = event.data;
      if (reply.type === 'ready') send(w, { type: 'probe' });
      else if (reply.type === 'probe') done({ values: reply.values });
      else if (reply.type === 'error') done({ error: `${reply.name}: ${reply.message}` });
    };
    send(w, initRequest(backend));
  });
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

async function compareBackends(): Promise<void> {
  ui.compare.disabled = true;
  const body = ui.compareTable.tBodies[0] as HTMLTableSectionElement;
  body.replaceChildren();
  ui.compareTable.hidden = false;
  ui.compareTable.dataset.state = 'running';
  const results = new Map<BackendChoice, { values: Float32Array } | { error: string }>();
  for (const backend of COMPARED) results.set(backend, await probe(backend));
  const reference = results.get(REFERENCE);
  for (const backend of COMPARED) {
    const result = results.get(backend) as { values: Float32Array } | { error: string };
    const row = body.insertRow();
    row.dataset.backend = backend;
    row.insertCell().textContent = backend;
    if ('error' in result) {
      row.insertCell().textContent = result.error;
      row.insertCell().textContent = '–';
      continue;
    }
    row.insertCell().textContent = `${result.values.length} logits`;
    const diff =
      reference !== undefined && 'values' in reference ? maxAbsDiff(result.values, reference.values) : NaN;
    row.dataset.maxDiff = String(diff);
    row.insertCell().textContent = Number.isNaN(diff) ? '–' : diff.toExponential(2);
  }
  ui.compareTable.dataset.state = 'done';
  ui.compare.disabled = false;
}

// ---- controls ----

function applyUrlParams(): void {
  const params = new URLSearchParams(location.search);
  const backend = params.get('backend');
  if (backend !== null && (BACKENDS as readonly string[]).includes(backend)) ui.backend.value = backend;
  const fallback = params.get('allowFallbackAdapter');
  if (fallback !== null) ui.allowFallback.checked = fallback === '1' || fallback === 'true';
  for (const key of ['seed', 'warmup'] as const) {
    const value = params.get(key);
    if (value !== null) ui[key].value = value;
  }
  const task = params.get('task');
  if (task !== null && TASKS.some((t) => t.name === task)) ui.task.value = task;
}

for (const t of TASKS) ui.task.add(new Option(t.label, t.name));
applyUrlParams();
for (const el of [ui.task, ui.backend, ui.allowFallback, ui.seed, ui.warmup])
  el.addEventListener('change', startWorker);

ui.train.addEventListener('click', () => {
  if (worker === null) return;
  if (training) {
    send(worker, { type: 'stop' });
  } else {
    send(worker, { type: 'train' });
    setTraining(true, 0);
  }
});
ui.save.addEventListener('click', () => {
  if (worker !== null) send(worker, { type: 'save' });
});
ui.load.addEventListener('change', () => {
  const file = ui.load.files?.[0];
  if (file === undefined) return;
  ui.load.value = '';
  file.arrayBuffer().then(
    (buffer) => {
      if (worker !== null) send(worker, { type: 'load', bytes: new Uint8Array(buffer) }, [buffer]);
    },
    (e: unknown) => showError('Error', `could not read ${file.name}: ${String(e)}`),
  );
});
ui.runForm.addEventListener('submit', (event) => {
  event.preventDefault();
  if (worker === null) return;
  ui.error.textContent = '';
  ui.output.textContent = PENDING;
  send(worker, { type: 'view', input: ui.input.value });
});
for (const button of [ui.forecast, ui.nextDigit]) {
  button.addEventListener('click', () => {
    if (worker !== null) send(worker, { type: 'view', input: '' });
  });
}
ui.compare.addEventListener('click', () => void compareBackends());

function animate(): void {
  charts.loss.redraw();
  charts.metric.redraw();
  requestAnimationFrame(animate);
}
requestAnimationFrame(animate);
startWorker();
