// The training worker: owns one backend and one task, trains step by step off the main thread and
// answers the page's requests between steps (so translating or saving while training is safe).
import { startBackend } from './backend.js';
import type { ProgressPoint, Reply, Request } from './protocol.js';
import type { PlaygroundTask } from './task.js';
import { createTask } from './tasks.js';

// The worker global, typed here because the project's lib is DOM, not WebWorker.
interface WorkerScope {
  onmessage: ((event: MessageEvent<Request>) => void) | null;
  postMessage(message: Reply, transfer?: Transferable[]): void;
}
const scope = self as unknown as WorkerScope;

// How often progress goes to the page, and how often the loop yields so that 'stop' is heard.
const POST_EVERY_MS = 100;
const YIELD_EVERY_MS = 25;
// steps/s is measured over this many recent steps.
const RATE_WINDOW = 20;

let task: PlaygroundTask | null = null;
let backend = '';
let training = false;
let stopRequested = false;

// Requests other than 'stop' run one at a time, in order, and between training steps.
let queue: Promise<unknown> = Promise.resolve();
function exclusive<T>(fn: () => Promise<T>): Promise<T> {
  const run = queue.then(fn);
  queue = run.catch(() => undefined);
  return run;
}

function post(reply: Reply, transfer: Transferable[] = []): void {
  scope.postMessage(reply, transfer);
}

function need(): PlaygroundTask {
  if (task === null) throw new Error('the worker has no task yet: send init first');
  return task;
}

const nextTask = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

async function train(maxSteps: number | undefined): Promise<void> {
  const t = need();
  if (training) return;
  training = true;
  stopRequested = false;
  const times: number[] = [];
  let pending: ProgressPoint[] = [];
  let lastPost = performance.now();
  let lastYield = lastPost;
  let done = 0;
  const flush = () => {
    const span = times.length > 1 ? ((times.at(-1) as number) - (times[0] as number)) / 1000 : 0;
    const stepsPerSecond = span > 0 ? (times.length - 1) / span : 0;
    post({ type: 'progress', points: pending, stepsPerSecond, lr: t.lr });
    pending = [];
    lastPost = performance.now();
  };
  try {
    while (!stopRequested && (maxSteps === undefined || done < maxSteps)) {
      pending.push(await exclusive(() => t.trainStep()));
      done += 1;
      const now = performance.now();
      times.push(now);
      if (times.length > RATE_WINDOW) times.shift();
      // The first step at once (the page shows it), then at most one message per POST_EVERY_MS.
      if (done === 1 || now - lastPost >= POST_EVERY_MS) flush();
      if (now - lastYield >= YIELD_EVERY_MS) {
        await nextTask();
        lastYield = performance.now();
      }
    }
  } finally {
    if (pending.length > 0) flush();
    training = false;
    post({ type: 'stopped', step: t.step });
  }
}

async function handle(request: Request): Promise<void> {
  switch (request.type) {
    case 'init': {
      const started = await startBackend(request.backend, request.allowFallbackAdapter);
      backend = started.backend;
      task?.dispose();
      task = await createTask(request.task, { seed: request.seed, warmup: request.warmup });
      post({
        type: 'ready',
        backend,
        report: started.report,
        task: request.task,
        model: task.describe(),
        metric: task.metric,
        step: task.step,
      });
      return;
    }
    case 'train':
      return train(request.maxSteps);
    case 'stop':
      stopRequested = true;
      return;
    case 'view': {
      const view = await exclusive(() => need().view(request.input));
      post({ type: 'view', view });
      return;
    }
    case 'save': {
      const { bytes, fileName } = await exclusive(() => need().save());
      post({ type: 'saved', bytes, fileName }, [bytes.buffer as ArrayBuffer]);
      return;
    }
    case 'load': {
      const t = need();
      await exclusive(() => Promise.resolve().then(() => t.load(request.bytes)));
      post({ type: 'loaded', step: t.step, model: t.describe() });
      return;
    }
    case 'probe': {
      const name = need().name;
      // The fixed seed and the default schedule, so that every backend sees the same model.
      const result = await exclusive(async () => {
        const fresh = await createTask(name, { seed: 0 });
        try {
          return await fresh.probe();
        } finally {
          fresh.dispose();
        }
      });
      post({ type: 'probe', backend, values: result.values, shape: result.shape }, [
        result.values.buffer as ArrayBuffer,
      ]);
      return;
    }
  }
}

scope.onmessage = (event) => {
  const request = event.data;
  handle(request).catch((e: unknown) => {
    const error = e instanceof Error ? e : new Error(String(e));
    post({ type: 'error', during: request.type, name: error.name, message: error.message });
  });
};
