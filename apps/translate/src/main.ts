// `pnpm demo` — trains the toy letter-name → letter translator and writes metrics, curves and a checkpoint;
// `main.ts translate "ei bi: si:"` — translates with the checkpoint. Run `main.ts --help` for options.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { MlError, type BackendName } from '@ml/core';
import { SEQ2SEQ_CONFIGS } from '@ml/seq2seq';

import { DEFAULT_DEMO_OPTIONS, runDemo, type DemoOptions } from './train.js';
import { runTranslate } from './translate.js';

const APP_DIR = fileURLToPath(new URL('..', import.meta.url));
const DEFAULT_OUT = join(APP_DIR, 'out');
const BACKENDS = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'];
const CONFIGS = ['demo', ...Object.keys(SEQ2SEQ_CONFIGS)];

const USAGE = `Usage:
  main.ts [options]                      train on the toy letter-name → letter set, evaluate, write outputs
  main.ts [translate] SENTENCE ...       translate letter names with the trained checkpoint
  main.ts translate                      read sentences from stdin, one per line

Training options:
  --out DIR          output folder (default apps/translate/out)
  --t N              sentence pairs to generate (default ${DEFAULT_DEMO_OPTIONS.t})
  --seq-len N        tokens per sentence (default ${DEFAULT_DEMO_OPTIONS.seqLen})
  --noise P          probability a target letter is replaced at random (default ${DEFAULT_DEMO_OPTIONS.noise}, i.e. r = 0.9)
  --crop P           share of training pairs cut to a random span, so that any length translates (default ${DEFAULT_DEMO_OPTIONS.crop})
  --epochs N         default: about 1500 optimizer steps (30 epochs for t = 1000, 3 for t = 10000)
  --batch-size N     default ${DEFAULT_DEMO_OPTIONS.batchSize}
  --config NAME      ${CONFIGS.join(' | ')} (default demo: d_model 64, 4 heads, 1+1 layers; base: the paper's 512/8/6+6/2048)
  --dropout P        model dropout (default: the config's; demo 0.2)
  --warmup N         Noam warmup steps (default ${DEFAULT_DEMO_OPTIONS.warmup}); --lr-factor F (default ${DEFAULT_DEMO_OPTIONS.lrFactor})
  --seed N           default ${DEFAULT_DEMO_OPTIONS.seed}
  --backend NAME     ${BACKENDS.join(' | ')} (default ${DEFAULT_DEMO_OPTIONS.backend})
  --quiet            no progress output

Translate options:
  --checkpoint FILE  default <out>/model.safetensors
  --beam N           beam width (default 1: greedy)

Examples: pnpm demo                              (train; same as pnpm demo translate)
          pnpm demo translate "ei bi: si:"        →  a b c`;

class UsageError extends Error {}

function int(name: string, value: string | undefined, min: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`--${name} must be an integer >= ${min}, got '${value}'`);
  return n;
}

function num(name: string, value: string | undefined, lo: number, hi: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < lo || n > hi)
    throw new UsageError(`--${name} must be a number in [${lo}, ${hi}], got '${value}'`);
  return n;
}

function oneOf<T extends string>(
  name: string,
  value: string | undefined,
  allowed: readonly string[],
): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value))
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got '${value}'`);
  return value as T;
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      t: { type: 'string' },
      'seq-len': { type: 'string' },
      noise: { type: 'string' },
      epochs: { type: 'string' },
      crop: { type: 'string' },
      'batch-size': { type: 'string' },
      config: { type: 'string' },
      dropout: { type: 'string' },
      warmup: { type: 'string' },
      'lr-factor': { type: 'string' },
      seed: { type: 'string' },
      backend: { type: 'string' },
      quiet: { type: 'boolean' },
      checkpoint: { type: 'string' },
      beam: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const out = values.out === undefined ? DEFAULT_OUT : resolve(values.out);
  const backend =
    oneOf<BackendName | 'auto'>('backend', values.backend, BACKENDS) ?? DEFAULT_DEMO_OPTIONS.backend;
  // Any sentence on the command line means "translate it" (`pnpm demo translate "ei bi: si:"` passes
  // only the sentence); the word `translate` alone asks for sentences on stdin.
  if (positionals.length > 0) {
    const sentences = positionals[0] === 'translate' ? positionals.slice(1) : positionals;
    const checkpoint =
      values.checkpoint === undefined ? join(out, 'model.safetensors') : resolve(values.checkpoint);
    if (!existsSync(checkpoint))
      throw new UsageError(
        `no checkpoint at ${checkpoint}; train one first with \`pnpm demo\` (or pass --checkpoint FILE)`,
      );
    await runTranslate({ checkpoint, sentences, beam: int('beam', values.beam, 1) ?? 1, backend });
    return;
  }

  const options: DemoOptions = {
    ...DEFAULT_DEMO_OPTIONS,
    out,
    backend,
    t: int('t', values.t, 10) ?? DEFAULT_DEMO_OPTIONS.t,
    seqLen: int('seq-len', values['seq-len'], 1) ?? DEFAULT_DEMO_OPTIONS.seqLen,
    noise: num('noise', values.noise, 0, 1) ?? DEFAULT_DEMO_OPTIONS.noise,
    crop: num('crop', values.crop, 0, 1) ?? DEFAULT_DEMO_OPTIONS.crop,
    epochs: int('epochs', values.epochs, 1),
    batchSize: int('batch-size', values['batch-size'], 1) ?? DEFAULT_DEMO_OPTIONS.batchSize,
    config: oneOf<DemoOptions['config']>('config', values.config, CONFIGS) ?? DEFAULT_DEMO_OPTIONS.config,
    dropout: num('dropout', values.dropout, 0, 0.99),
    warmup: int('warmup', values.warmup, 1) ?? DEFAULT_DEMO_OPTIONS.warmup,
    lrFactor: num('lr-factor', values['lr-factor'], Number.MIN_VALUE, 100) ?? DEFAULT_DEMO_OPTIONS.lrFactor,
    seed: int('seed', values.seed, 0) ?? DEFAULT_DEMO_OPTIONS.seed,
    quiet: values.quiet ?? false,
  };
  await runDemo(options);
}

try {
  await main(process.argv.slice(2));
} catch (e) {
  const err = e as Error & { code?: string };
  if (e instanceof UsageError || err.code?.startsWith('ERR_PARSE_ARGS') === true) {
    process.stderr.write(`error: ${err.message}\n\n${USAGE}\n`);
    process.exitCode = 2;
  } else if (e instanceof MlError) {
    process.stderr.write(`error: ${err.message}\n`);
    process.exitCode = 1;
  } else {
    throw e;
  }
}
