import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { main } from './main.js';
import type { VitMetrics } from './main.js';
import { rolloutSvg } from './rollout-svg.js';

let out: string;
beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'vit-demo-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

async function run(argv: string[]): Promise<VitMetrics> {
  const metrics = await main(argv);
  if (metrics === null) throw new Error(`main(${argv.join(' ')}) printed its help instead of running`);
  return metrics;
}

describe('vit demo', () => {
  it('trains on a few images and writes metrics.json, curves, rollout images, history and checkpoints', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const metrics = await run(['--out', out, '--limit', '64', '--epochs', '1', '--batch-size', '32']);
    log.mockRestore();
    const written = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8')) as Record<string, unknown>;
    expect(written).toEqual(metrics);
    expect(Object.keys(written)).toEqual(
      expect.arrayContaining(['test_accuracy', 'epochs', 'seconds_per_epoch', 'dataset', 'backend']),
    );
    expect(metrics).toMatchObject({ epochs: 1, backend: 'wasm', dataset: 'fashion-mnist', train_images: 64 });
    expect(metrics.seconds_per_epoch).toBeGreaterThan(0);
    expect(await readdir(out)).toEqual(
      expect.arrayContaining(['curves.svg', 'rollout.svg', 'history.jsonl', 'history.csv', 'checkpoints']),
    );
    const svg = await readFile(join(out, 'rollout.svg'), 'utf8');
    expect(svg).toContain('Ankle boot');
    expect(svg.startsWith('<svg')).toBe(true);
  });

  it('continues from its checkpoints with --resume', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    const metrics = await run([
      '--out',
      out,
      '--limit',
      '64',
      '--epochs',
      '2',
      '--batch-size',
      '32',
      '--resume',
    ]);
    log.mockRestore();
    expect(metrics.epochs).toBe(2);
    const history = (await readFile(join(out, 'history.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string });
    expect(history.filter((r) => r.kind === 'epoch')).toHaveLength(2);
  });

  it('prints its flags with --help and rejects bad ones', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    expect(await main(['--help'])).toBeNull();
    expect(String(log.mock.calls[0]?.[0])).toContain('--dataset NAME');
    log.mockRestore();
    await expect(main(['--out', out, '--dataset', 'cifar'])).rejects.toThrow(
      "--dataset must be 'fashion' or 'mnist', got 'cifar'",
    );
    await expect(main(['--out', out, '--epochs', '0'])).rejects.toThrow(
      '--epochs must be an integer ≥ 1, got 0',
    );
    await expect(main(['--out', out, '--dropout-at', 'mlp'])).rejects.toThrow(
      "--dropout-at must be 'head' or 'blocks', got 'mlp'",
    );
    await expect(main(['--out', out, '--decay', 'none'])).rejects.toThrow(
      "--decay must be 'matrices' or 'all', got 'none'",
    );
    await expect(main(['--out', out, '--beta2', '1'])).rejects.toThrow('--beta2 must be in [0, 1), got 1');
    await expect(main(['--out', out, '--clip=-1'])).rejects.toThrow(
      '--clip must be a number in [0, Infinity], got -1',
    );
  });

  it('draws one column per image with its labels', () => {
    const svg = rolloutSvg(
      [{ pixels: new Float32Array(4), map: new Float32Array([0, 1]), label: 'Bag', predicted: 'Coat' }],
      [2, 2],
      [1, 2],
      'title',
    );
    expect(svg).toContain('>Bag<');
    expect(svg).toContain('→ Coat');
    expect(svg.match(/<rect /g)).toHaveLength(1 + 4 + 2);
  });
});
