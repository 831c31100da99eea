import * as tf from '@tensorflow/tfjs-core';

import { CheckpointError, isPlainObject } from '@ml/core';
import type { Module, OptimizerState, Rng, RngState } from '@ml/core';

import type { Callback } from './callback.js';
import { listCheckpoints, readCheckpoint, writeCheckpoint } from './checkpoint-dir.js';
import type { CheckpointContent, CheckpointWhich } from './checkpoint-dir.js';
import { cloneHistory } from './history.js';
import type { History } from './history.js';
import type { Accumulators, FitRun, Position } from './internal/fit-run.js';
import type { Metric } from './metric.js';

// The checkpoint state of a Runner: what a checkpoint holds besides the model, how it is taken at a
// step or epoch boundary, and how a fit is restored from it (falling back past damaged checkpoints).

/** The JSON state a Runner stores in its checkpoints (next to the model/optimizer/callback tensors). */
export interface RunnerCheckpointState {
  runner: 'Runner';
  position: Position;
  stopReason: string | null;
  /** The runner's generator and every generator the model registered, by dotted name. */
  rng: { runner: RngState; model: Record<string, RngState> };
  optimizer: OptimizerState;
  callbacks: Record<string, unknown>;
  metrics: Record<string, number[]>;
  accumulators: Accumulators;
  history: History;
  backend: string | null;
}

/** What of a Runner a checkpoint saves and restores. */
export interface RunnerParts {
  model: Module;
  rng: Rng;
  metrics: readonly Metric[];
  callbacks: readonly Callback[];
  keys: ReadonlyMap<Callback, string>;
}

type Tensors = Record<string, Record<string, tf.Tensor>>;

/** The checkpoint content of a fit at `position` (the tensors are the live ones: write, do not dispose). */
export async function snapshot(
  parts: RunnerParts,
  run: FitRun,
  position: Position,
  epochSeconds: number,
): Promise<CheckpointContent<RunnerCheckpointState>> {
  const opt = run.optimizer.stateDict();
  const callbackTensors: Record<string, tf.Tensor> = {};
  const callbackStates: Record<string, unknown> = {};
  for (const cb of parts.callbacks) {
    if (cb.stateDict === undefined) continue;
    const key = parts.keys.get(cb) ?? '';
    const s = await cb.stateDict();
    callbackStates[key] = s.state ?? null;
    for (const [name, t] of Object.entries(s.tensors ?? {})) callbackTensors[`${key}.${name}`] = t;
  }
  const state: RunnerCheckpointState = {
    runner: 'Runner',
    position,
    stopReason: run.stopReason,
    rng: {
      runner: parts.rng.state(),
      model: Object.fromEntries(parts.model.namedGenerators().map(([k, r]) => [k, r.state()])),
    },
    optimizer: opt.state,
    callbacks: callbackStates,
    metrics: Object.fromEntries(parts.metrics.map((m) => [m.name, m.state()])),
    // A mid-epoch checkpoint carries the epoch's training time so far; an epoch-end one starts afresh.
    accumulators: { ...run.acc, seconds: position.batch > 0 ? epochSeconds : 0 },
    history: run.history,
    backend: tf.getBackend() ?? null,
  };
  return {
    tensors: { model: parts.model.stateDict(), optimizer: opt.tensors, callbacks: callbackTensors },
    state,
  };
}

/** Writes the checkpoints callbacks asked for during the current event, one per directory. */
export async function flushCheckpoints(
  parts: RunnerParts,
  run: FitRun,
  position: Position,
  epochSeconds: number,
): Promise<void> {
  if (run.pending.length === 0) return;
  const requests = run.pending.splice(0);
  const byDir = new Map<
    string,
    { best: boolean; keepLast: number | undefined; onSaved: ((name: string) => void)[] }
  >();
  for (const r of requests) {
    const entry = byDir.get(r.dir) ?? { best: false, keepLast: undefined, onSaved: [] };
    entry.best ||= r.best === true;
    if (r.keepLast !== undefined) entry.keepLast = Math.max(entry.keepLast ?? 0, r.keepLast);
    if (r.onSaved) entry.onSaved.push(r.onSaved);
    byDir.set(r.dir, entry);
  }
  const content = await snapshot(parts, run, position, epochSeconds);
  for (const [dir, { best, keepLast, onSaved }] of byDir) {
    const name = await writeCheckpoint(dir, content, {
      epoch: position.epoch,
      step: position.step,
      tags: best ? ['latest', 'best'] : ['latest'],
      ...(keepLast !== undefined ? { keepLast } : {}),
    });
    for (const fn of onSaved) fn(name);
  }
}

type ReadCheckpoint = Awaited<ReturnType<typeof readCheckpoint<RunnerCheckpointState>>>;

/**
 * Reads the checkpoint to resume from. `latest` falls back, newest first, to the older checkpoints
 * (never past the one `latest` names) when it does not verify, and warns through the run; a named
 * checkpoint ('best' or a name) is read as it is.
 */
async function readResumable(dir: string, which: CheckpointWhich, run: FitRun): Promise<ReadCheckpoint> {
  try {
    return await readCheckpoint<RunnerCheckpointState>(dir, which);
  } catch (e) {
    if (which !== 'latest' || !(e instanceof CheckpointError)) throw e;
    const all = await listCheckpoints(dir);
    const latest = all.find((c) => c.tags.includes('latest'));
    const older = all
      .filter((c) => c !== latest && (latest === undefined || c.step <= latest.step))
      .reverse();
    const failures = [`latest: ${e.message}`];
    for (const c of older) {
      try {
        const ckpt = await readCheckpoint<RunnerCheckpointState>(dir, c.name);
        run.warn(
          `Runner.fit: the latest checkpoint in ${dir} is damaged (${e.message}); resuming from ${c.name}, the newest checkpoint that verifies`,
        );
        return ckpt;
      } catch (e2) {
        if (!(e2 instanceof CheckpointError)) throw e2;
        failures.push(`${c.name}: ${e2.message}`);
      }
    }
    throw new CheckpointError(
      `Runner.fit: no checkpoint in ${dir} can be resumed from (${failures.join('; ')})`,
      { cause: e },
    );
  }
}

/** Restores model, optimizer, generators, metrics, callbacks and position of `run` from a checkpoint. */
export async function restore(
  parts: RunnerParts,
  run: FitRun,
  dir: string,
  which: CheckpointWhich,
): Promise<void> {
  const where = `Runner.fit: resume from ${dir}`;
  const ckpt = await readResumable(dir, which, run);
  try {
    const s = ckpt.state;
    if (
      !isPlainObject(s) ||
      s.runner !== 'Runner' ||
      !isPlainObject(s.position) ||
      !isPlainObject(s.rng) ||
      !isPlainObject(s.accumulators) ||
      !isPlainObject(s.history)
    ) {
      throw new CheckpointError(
        `${where}: checkpoint ${ckpt.name} was not written by a Runner (trainer.json lacks position/rng/accumulators/history)`,
      );
    }
    parts.model.loadStateDict(ckpt.tensors.model ?? {});
    run.optimizer.loadStateDict({ tensors: ckpt.tensors.optimizer ?? {}, state: s.optimizer });
    try {
      parts.rng.setState(s.rng.runner);
      for (const [name, rng] of parts.model.namedGenerators()) {
        const saved = s.rng.model[name];
        if (saved === undefined)
          throw new CheckpointError(
            `${where}: checkpoint ${ckpt.name} has no state for the model's generator '${name}' (has: ${Object.keys(s.rng.model).join(', ') || 'none'})`,
          );
        rng.setState(saved);
      }
      for (const m of parts.metrics) {
        const saved = s.metrics[m.name];
        if (saved === undefined)
          throw new CheckpointError(
            `${where}: checkpoint ${ckpt.name} has no state for metric '${m.name}' (has: ${Object.keys(s.metrics).join(', ') || 'none'})`,
          );
        m.setState(saved);
      }
    } catch (e) {
      if (e instanceof CheckpointError) throw e;
      throw new CheckpointError(`${where}: ${(e as Error).message}`, { cause: e });
    }
    const callbackTensors = ckpt.tensors.callbacks ?? {};
    for (const cb of parts.callbacks) {
      if (cb.loadStateDict === undefined) continue;
      const key = parts.keys.get(cb) ?? '';
      if (!(key in s.callbacks))
        throw new CheckpointError(
          `${where}: checkpoint ${ckpt.name} has no state for callback '${key}' (has: ${Object.keys(s.callbacks).join(', ') || 'none'})`,
        );
      const prefix = `${key}.`;
      const tensors = Object.fromEntries(
        Object.entries(callbackTensors)
          .filter(([k]) => k.startsWith(prefix))
          .map(([k, t]) => [k.slice(prefix.length), t]),
      );
      await cb.loadStateDict({ state: s.callbacks[key], tensors });
    }
    run.epoch = s.position.epoch;
    run.batch = s.position.batch;
    run.step = s.position.step;
    run.stopReason = s.stopReason;
    run.acc = { ...s.accumulators };
    run.history = cloneHistory(s.history);
    run.resumedFrom = ckpt.name;
  } finally {
    disposeGroups(ckpt.tensors);
  }
}

/** Disposes every tensor of a checkpoint read back. */
export function disposeGroups(tensors: Tensors): void {
  for (const group of Object.values(tensors)) tf.dispose(Object.values(group));
}
