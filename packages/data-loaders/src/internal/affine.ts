import type { Rng } from '@ml/core';

import type { FlipMode } from '../augment.js';

/** AugmentOptions with every default filled in and checked. */
export type ResolvedAugment = {
  rotation: number;
  zoom: readonly [number, number];
  shift: number;
  flip: FlipMode;
  padCrop: number;
  fill: number;
};

/**
 * Draws one image's parameters and returns the inverse map output (x, y) → input (x, y) as an affine
 * matrix [a, b, c, d, e, f]: xIn = a·x + b·y + c, yIn = d·x + e·y + f. Forward order:
 * flip, rotate about the centre, zoom about the centre, shift (+ pad-crop offset).
 */
export function drawInverseAffine(
  o: ResolvedAugment,
  rng: Rng,
  h: number,
  w: number,
): [number, number, number, number, number, number] {
  const theta = o.rotation > 0 ? (rng.uniform(-o.rotation, o.rotation) * Math.PI) / 180 : 0;
  const s = o.zoom[0] < o.zoom[1] ? rng.uniform(o.zoom[0], o.zoom[1]) : o.zoom[0];
  let tx = o.shift > 0 ? rng.int(2 * o.shift + 1) - o.shift : 0;
  let ty = o.shift > 0 ? rng.int(2 * o.shift + 1) - o.shift : 0;
  if (o.padCrop > 0) {
    // Cropping a (P-padded) image at offset (ox, oy) ∈ [0, 2P]² shifts it by (P − ox, P − oy).
    tx += o.padCrop - rng.int(2 * o.padCrop + 1);
    ty += o.padCrop - rng.int(2 * o.padCrop + 1);
  }
  const flipX = (o.flip === 'horizontal' || o.flip === 'both') && rng.random() < 0.5;
  const flipY = (o.flip === 'vertical' || o.flip === 'both') && rng.random() < 0.5;
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  // Undo shift and zoom, then rotate back by −θ: q = c + R(−θ)·((p − t − c) / s).
  const cos = Math.cos(theta) / s;
  const sin = Math.sin(theta) / s;
  let a = cos;
  let b = sin;
  let c = cx - cos * (tx + cx) - sin * (ty + cy);
  let d = -sin;
  let e = cos;
  let f = cy + sin * (tx + cx) - cos * (ty + cy);
  // A flip is its own inverse and comes first in the forward order, so it is applied last here.
  if (flipX) [a, b, c] = [-a, -b, w - 1 - c];
  if (flipY) [d, e, f] = [-d, -e, h - 1 - f];
  return [a, b, c, d, e, f];
}
