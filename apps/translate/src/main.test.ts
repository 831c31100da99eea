import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { DataError } from '@ml/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DEFAULT_DEMO_OPTIONS, defaultEpochs, runDemo, type DemoMetrics } from './train.js';
import { runTranslate, tokenize } from './translate.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

function cli(...args: string[]) {
  return spawnSync(process.execPath, ['--conditions=@ml/source', '--import', 'tsx', MAIN, ...args], {
    encoding: 'utf8',
  });
}

describe('apps/translate', () => {
  let out: string;
  let metrics: DemoMetrics;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'translate-demo-'));
    // A quick run: few pairs, the tiny model; what matters here is the outputs, not accuracy.
    metrics = await runDemo({
      ...DEFAULT_DEMO_OPTIONS,
      out,
      t: 80,
      epochs: 2,
      config: 'tiny',
      warmup: 5,
      quiet: true,
    });
  });
  afterAll(() => rm(out, { recursive: true, force: true }));

  it('writes metrics.json with exactly the agreed keys, curves, history and a checkpoint', async () => {
    const written = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8')) as Record<string, unknown>;
    expect(Object.keys(written).sort()).toEqual([
      'backend',
      'bayes_token_accuracy',
      'greedy_sequence_accuracy',
      'greedy_token_accuracy',
      'seconds',
      'teacher_forced_token_accuracy',
    ]);
    expect(written).toEqual(metrics);
    expect(written.backend).toBe('wasm');
    expect(written.bayes_token_accuracy).toBeCloseTo(0.9 + 0.1 / 26, 10);
    for (const key of [
      'greedy_token_accuracy',
      'greedy_sequence_accuracy',
      'teacher_forced_token_accuracy',
    ]) {
      expect(written[key]).toBeGreaterThanOrEqual(0);
      expect(written[key]).toBeLessThanOrEqual(1);
    }
    expect((await readdir(out)).sort()).toEqual([
      'curves.svg',
      'history.csv',
      'history.jsonl',
      'metrics.json',
      'model.safetensors',
    ]);
    const svg = await readFile(join(out, 'curves.svg'), 'utf8');
    expect(svg).toContain('<svg');
    expect(svg).toContain('accuracy');
  });

  it('translates with the checkpoint and rejects unknown letter names', async () => {
    const lines: string[] = [];
    const [letters] = await runTranslate(
      { checkpoint: join(out, 'model.safetensors'), sentences: ['ei  bi: si:'], beam: 2, backend: 'wasm' },
      (l) => lines.push(l),
    );
    // Two epochs on 64 pairs teach the tiny model little: check the form, not the letters.
    (letters as string[]).forEach((l) => expect(l).toMatch(/^[a-z]$/));
    expect(lines[0]).toBe(`ei bi: si:  →  ${(letters as string[]).join(' ')}`);
    const run = () =>
      runTranslate(
        { checkpoint: join(out, 'model.safetensors'), sentences: ['ei foo'], beam: 1, backend: 'wasm' },
        () => {},
      );
    await expect(run()).rejects.toThrow(DataError);
    await expect(run()).rejects.toThrow(
      "Translator.translate: sentence 0: Vocab.encode: token 'foo' at position 1 is not in the vocabulary",
    );
  });

  it('the CLI reports bad input as a one-line error with a non-zero exit code', () => {
    const unknown = cli('translate', '--out', out, 'ei foo');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain(
      "error: Translator.translate: sentence 0: Vocab.encode: token 'foo' at position 1 is not in the vocabulary (known: ",
    );
    const missing = cli('translate', '--checkpoint', join(out, 'nope.safetensors'), 'ei');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('no checkpoint at');
    const badOption = cli('--t', 'many');
    expect(badOption.status).toBe(2);
    expect(badOption.stderr).toContain("error: --t must be an integer >= 10, got 'many'");
  });

  it('--help prints the usage and exits 0', () => {
    const help = cli('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage:');
    expect(help.stdout).toContain('main.ts [translate] SENTENCE ...');
    expect(help.stdout).toContain('--checkpoint FILE');
  });

  it('helpers: tokenize and the default epoch count', () => {
    expect(tokenize('  ei   bi: ')).toEqual(['ei', 'bi:']);
    expect(defaultEpochs(1000, 0.8, 16)).toBe(30);
    expect(defaultEpochs(10000, 0.8, 16)).toBe(3);
  });
});
