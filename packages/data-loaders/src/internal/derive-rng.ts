import { Rng } from '@ml/core';

/**
 * The generator for stream `index` of `seed`: the (index+1)-th fork of `new Rng(seed)`. Depends only
 * on (seed, index), so epoch e's shuffle can be replayed without replaying epochs 0..e−1's batches.
 * Cost is O(index) 32-bit draws, negligible for epoch or episode counts.
 */
export function deriveRng(seed: number, index: number): Rng {
  const base = new Rng(seed);
  let rng = base.fork();
  for (let i = 0; i < index; i++) rng = base.fork();
  return rng;
}
