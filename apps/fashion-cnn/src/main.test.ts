import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { main } from './main.js';

let out: string;
beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'fashion-demo-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe('fashion-cnn demo', () => {
  it('trains on a few images and writes metrics.json, curves, history and checkpoints', async () => {
    const metrics = await main(['--out', out, '--limit', '100', '--epochs', '1', '--checkpoint-every', '1']);
    const written = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8')) as Record<string, unknown>;
    expect(written).toEqual(metrics);
    expect(Object.keys(written)).toEqual(
      expect.arrayContaining(['test_accuracy', 'epochs', 'seconds_per_epoch', 'backend']),
    );
    expect(metrics.epochs).toBe(1);
    expect(metrics.backend).toBe('wasm');
    expect(metrics.train_images).toBe(100);
    expect(metrics.test_images).toBe(100);
    expect(metrics.test_accuracy).toBeGreaterThanOrEqual(0);
    expect(metrics.test_accuracy).toBeLessThanOrEqual(1);
    expect(metrics.seconds_per_epoch).toBeGreaterThan(0);
    expect(await readdir(out)).toEqual(
      expect.arrayContaining(['curves.svg', 'history.jsonl', 'history.csv', 'checkpoints']),
    );
    expect(await readdir(join(out, 'checkpoints'))).toEqual(expect.arrayContaining(['latest', 'best']));
  });

  it('continues from its checkpoints with --resume', async () => {
    const metrics = await main(['--out', out, '--limit', '100', '--epochs', '2', '--resume']);
    expect(metrics.epochs).toBe(2);
    const history = (await readFile(join(out, 'history.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string });
    expect(history.filter((r) => r.kind === 'epoch')).toHaveLength(2);
  });

  it('rejects bad flags', async () => {
    await expect(main(['--out', out, '--limit', '0'])).rejects.toThrow(
      '--limit must be a positive integer, got 0',
    );
    await expect(main(['--out', out, '--augment', 'rotate'])).rejects.toThrow(
      "--augment must be 'fashion', 'seed' or 'none', got 'rotate'",
    );
    await expect(main(['--out', out, '--schedule', 'step'])).rejects.toThrow(
      "--schedule must be 'cosine' or 'constant', got 'step'",
    );
  });
});
