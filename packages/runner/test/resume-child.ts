// A training run for the SIGKILL resume test (src/resume.test.ts), run as its own process:
//   node --conditions=@ml/source --import tsx test/resume-child.ts <checkpoint dir> <result.json> [--resume] [--pace ms]
// It prints "start <step>" when fitting starts and "step <n>" after every step; with --pace it
// sleeps after each step so that the parent can kill it at a chosen point.
import { writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

import { Adam, CosineWithWarmup, useBackend } from '@ml/core';

import { Accuracy, EarlyStopping, LrScheduler, ModelCheckpoint, Runner } from '../src/index.js';
import type { Callback } from '../src/index.js';
import { TinyMlp, blobs, ceLoss, loaderOf, weightsOf } from './helpers.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { resume: { type: 'boolean' }, pace: { type: 'string' } },
});
const [dir, out] = positionals as [string, string];
const pace = Number(values.pace ?? 0);

await useBackend('cpu');
const train = blobs(120, 1); // 15 batches of 8 per epoch
const val = blobs(30, 5);
const model = new TinyMlp({ seed: 0, dropout: 0.2 });
const reporter: Callback = {
  key: 'reporter',
  onFitStart(ctx) {
    process.stdout.write(`start ${ctx.step}\n`);
  },
  async onStepEnd(ctx) {
    process.stdout.write(`step ${ctx.step}\n`);
    if (pace > 0) await sleep(pace);
  },
};
const runner = new Runner({
  model,
  optimizer: new Adam(model, { lr: 0.01 }),
  loss: ceLoss,
  metrics: [new Accuracy()],
  seed: 7,
  callbacks: [
    reporter,
    new LrScheduler({ schedule: new CosineWithWarmup({ lr: 0.02, warmupSteps: 10, totalSteps: 60 }) }),
    new EarlyStopping({ monitor: 'val_loss', patience: 100 }),
    new ModelCheckpoint({ dir, everySteps: 10, keepLast: 2 }),
  ],
});
const result = await runner.fit(loaderOf(train.x, train.y, { batchSize: 8, shuffle: true, seed: 3 }), {
  epochs: 4,
  valLoader: loaderOf(val.x, val.y, { shuffle: false }),
  logEvery: 5,
  ...(values.resume === true ? { resume: dir } : {}),
});
const epochs = result.history.epochs.map(({ seconds: _seconds, ...rest }) => rest);
await writeFile(out, JSON.stringify({ weights: await weightsOf(model), epochs, steps: result.steps }));
