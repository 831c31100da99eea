import * as tf from '@tensorflow/tfjs-core';

import { ConfigError, ShapeError, formatShape } from '@ml/core';

import {
  resolveSearchOptions,
  type SearchOptions,
  type SearchResult,
  type StepDecoder,
} from './step-decoder.js';

/** Options of {@link beamSearch}. */
export interface BeamSearchOptions extends SearchOptions {
  /** Hypotheses kept per source (default 4). Width 1 gives exactly {@link greedySearch}'s result. */
  beamWidth?: number;
  /**
   * Exponent α of the length normalisation: a finished hypothesis is ranked by
   * sum(log p) / length^α, length counting `<eos>` (default 1; 0 ranks by raw log-probability,
   * larger values favour longer outputs). Same convention as Hugging Face's `length_penalty`.
   */
  lengthPenalty?: number;
}

/** Defaults of {@link BeamSearchOptions} (beyond those of {@link SearchOptions}). */
export const DEFAULT_BEAM_SEARCH_OPTIONS = { beamWidth: 4, lengthPenalty: 1 } as const;

interface Hypothesis {
  tokens: number[];
  /** Sum of log-probabilities. */
  score: number;
}

interface Finished extends Hypothesis {
  /** score / length^α: what finished hypotheses are ranked by. */
  rank: number;
  ended: boolean;
}

/**
 * Beam search over a batch: keeps `beamWidth` hypotheses per source; at each step every hypothesis
 * is extended by every token, the best 2·width candidates (by summed log-probability) are scanned
 * in order, those ending in `<eos>` among the best `width` are set aside as finished, and the others
 * fill the next beam. A source is done when it has `width` finished hypotheses and its best live one
 * can no longer beat the worst of them at the current length; at `maxLength` the live ones count as
 * finished. Returns the best finished hypothesis per source by normalised score.
 */
export async function beamSearch(
  decoder: StepDecoder,
  options: BeamSearchOptions = {},
): Promise<SearchResult> {
  const where = 'beamSearch';
  const { maxLength, bosId, eosId, padId } = resolveSearchOptions(where, options);
  const k = options.beamWidth ?? DEFAULT_BEAM_SEARCH_OPTIONS.beamWidth;
  const alpha = options.lengthPenalty ?? DEFAULT_BEAM_SEARCH_OPTIONS.lengthPenalty;
  if (!Number.isInteger(k) || k < 1)
    throw new ConfigError(`${where}: beamWidth must be a positive integer, got ${String(k)}`);
  if (!Number.isFinite(alpha))
    throw new ConfigError(`${where}: lengthPenalty must be a finite number, got ${String(alpha)}`);
  const b = decoder.batchSize;
  const n = b * k;
  // Each source starts with one live hypothesis; the other k − 1 slots hold −∞ so the first step
  // does not pick k copies of the same continuation.
  const beams: Hypothesis[][] = Array.from({ length: b }, () => [{ tokens: [], score: 0 }]);
  const finished: Finished[][] = Array.from({ length: b }, () => []);
  const done = new Array<boolean>(b).fill(false);
  const norm = (score: number, length: number) => score / Math.pow(length, alpha);
  const addFinished = (i: number, h: Finished) => {
    const list = finished[i] as Finished[];
    list.push(h);
    list.sort((x, y) => y.rank - x.rank);
    if (list.length > k) list.pop();
  };

  for (let t = 0; t < maxLength && done.includes(false); t++) {
    const prefix = new Int32Array(n * (t + 1)).fill(padId);
    const beamScores = new Float32Array(n).fill(-Infinity);
    for (let i = 0; i < b; i++) {
      (beams[i] as Hypothesis[]).forEach((h, j) => {
        const row = (i * k + j) * (t + 1);
        prefix[row] = bosId;
        prefix.set(h.tokens, row + 1);
        if (!done[i]) beamScores[i * k + j] = h.score;
      });
    }
    const [topValues, topIndices, vocabSize] = tf.tidy(() => {
      const logits = decoder.step(tf.tensor2d(prefix, [n, t + 1], 'int32')); // [B·k, V]
      if (logits.rank !== 2 || logits.shape[0] !== n) {
        throw new ShapeError(
          `${where}: decoder.step must return logits [${n}, V] for ${n} prefixes, got ${formatShape(logits.shape)}`,
        );
      }
      const v = logits.shape[1];
      const total = tf.add(tf.logSoftmax(logits), tf.tensor2d(beamScores, [n, 1])); // [B·k, V]
      const flat = tf.reshape(total, [b, k * v]); // [B, k·V]
      const { values, indices } = tf.topk(flat, Math.min(2 * k, k * v)); // [B, 2k]
      return [values, indices, v] as const;
    });
    const [values, indices] = await Promise.all([topValues.data(), topIndices.data()]);
    tf.dispose([topValues, topIndices]);
    const width = values.length / b;
    for (let i = 0; i < b; i++) {
      if (done[i]) continue;
      const old = beams[i] as Hypothesis[];
      const next: Hypothesis[] = [];
      for (let r = 0; r < width && next.length < k; r++) {
        const score = values[i * width + r] as number;
        if (score === -Infinity) break;
        const index = indices[i * width + r] as number;
        const parent = old[Math.floor(index / vocabSize)] as Hypothesis;
        const token = index % vocabSize;
        if (token === eosId) {
          // Only an <eos> among the best k candidates ends a hypothesis (so width 1 is greedy).
          if (r < k) addFinished(i, { tokens: parent.tokens, score, rank: norm(score, t + 1), ended: true });
        } else next.push({ tokens: [...parent.tokens, token], score });
      }
      beams[i] = next;
      const fin = finished[i] as Finished[];
      const best = next[0];
      if (
        best === undefined ||
        (fin.length >= k && norm(best.score, t + 1) <= (fin[fin.length - 1] as Finished).rank)
      )
        done[i] = true;
    }
  }
  const result: SearchResult = { tokens: [], scores: [], finished: [] };
  for (let i = 0; i < b; i++) {
    if (!done[i])
      for (const h of beams[i] as Hypothesis[])
        addFinished(i, { ...h, rank: norm(h.score, h.tokens.length), ended: false });
    // Only a decoder whose logits are all −∞ leaves nothing to choose from.
    const best = (finished[i] as Finished[])[0] ?? { tokens: [], score: -Infinity, ended: false };
    result.tokens.push(best.tokens);
    result.scores.push(best.score);
    result.finished.push(best.ended);
  }
  return result;
}
