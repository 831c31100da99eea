import * as tf from '@tensorflow/tfjs-core';

import { ShapeError, formatShape } from '@ml/core';

import {
  resolveSearchOptions,
  type SearchOptions,
  type SearchResult,
  type StepDecoder,
} from './step-decoder.js';

/**
 * Greedy decoding: from `<bos>`, repeatedly append the most probable next token, for the whole
 * batch at once, until every sequence has produced `<eos>` or `maxLength` tokens. Sequences that
 * have ended are fed `<pad>` so the batch keeps its shape.
 */
export async function greedySearch(decoder: StepDecoder, options: SearchOptions = {}): Promise<SearchResult> {
  const { maxLength, bosId, eosId, padId } = resolveSearchOptions('greedySearch', options);
  const b = decoder.batchSize;
  const prefixes: number[][] = Array.from({ length: b }, () => [bosId]);
  const tokens: number[][] = Array.from({ length: b }, () => []);
  const scores = new Array<number>(b).fill(0);
  const finished = new Array<boolean>(b).fill(false);
  for (let t = 0; t < maxLength && finished.includes(false); t++) {
    const [best, bestLogProb] = tf.tidy((): [tf.Tensor1D, tf.Tensor1D] => {
      const prefix = tf.tensor2d(prefixes.flat(), [b, t + 1], 'int32'); // [B, t+1]
      const logits = decoder.step(prefix); // [B, V]
      if (logits.rank !== 2 || logits.shape[0] !== b) {
        throw new ShapeError(
          `greedySearch: decoder.step must return logits [${b}, V], got ${formatShape(logits.shape)}`,
        );
      }
      const logProbs = tf.logSoftmax(logits); // [B, V]
      return [tf.argMax(logProbs, 1), tf.max(logProbs, 1)]; // [B], [B]
    });
    const [ids, lps] = await Promise.all([best.data(), bestLogProb.data()]);
    tf.dispose([best, bestLogProb]);
    for (let i = 0; i < b; i++) {
      const row = prefixes[i] as number[];
      if (finished[i]) {
        row.push(padId);
        continue;
      }
      const id = ids[i] as number;
      scores[i] = (scores[i] as number) + (lps[i] as number);
      row.push(id);
      if (id === eosId) finished[i] = true;
      else (tokens[i] as number[]).push(id);
    }
  }
  return { tokens, scores, finished };
}
