import * as tf from '@tensorflow/tfjs-core';

/**
 * Runs a GRU over precomputed input projections under ordinary autodiff. Gate order r, z, n
 * (PyTorch's); the reset gate multiplies the recurrent projection including its bias:
 * n = tanh(W_in·x + b_in + r ⊙ (W_hn·h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h.
 *
 * xp [T, B, 3H] = x·W_ihᵀ + b_ih; whh [3H, H]; bhh [3H] or null; h0 [B, H] → hidden states [T, B, H].
 */
export function gruRecurrence(
  xp: tf.Tensor3D,
  whh: tf.Tensor2D,
  bhh: tf.Tensor1D | null,
  h0: tf.Tensor2D,
): tf.Tensor3D {
  const [T, B, G] = xp.shape;
  const H = G / 3;
  return tf.tidy(() => {
    // One time row per step by `gather`: wasm's `slice`/`unstack` copy the whole input first.
    const xRz: tf.Tensor2D = tf.reshape(tf.slice(xp, [0, 0, 0], [T, B, 2 * H]), [T, B * 2 * H]); // [T, B·2H]
    const xN: tf.Tensor2D = tf.reshape(tf.slice(xp, [0, 0, 2 * H], [T, B, H]), [T, B * H]); // [T, B·H]
    const row = (x: tf.Tensor2D, t: number, width: number): tf.Tensor2D =>
      tf.reshape(tf.gather(x, tf.tensor1d([t], 'int32')), [B, width]);
    const hs: tf.Tensor2D[] = [];
    let h = h0;
    for (let t = 0; t < T; t++) {
      let hp: tf.Tensor2D = tf.matMul(h, whh, false, true); // [B, 3H]
      if (bhh !== null) hp = tf.add(hp, bhh);
      const rz = tf.sigmoid(tf.add(row(xRz, t, 2 * H), tf.slice(hp, [0, 0], [B, 2 * H]))); // [B, 2H]
      const r = tf.slice(rz, [0, 0], [B, H]); // [B, H]
      const z = tf.slice(rz, [0, H], [B, H]); // [B, H]
      const n = tf.tanh(tf.add(row(xN, t, H), tf.mul(r, tf.slice(hp, [0, 2 * H], [B, H])))); // [B, H]
      h = tf.add(n, tf.mul(z, tf.sub(h, n))); // (1 − z)·n + z·h   [B, H]
      hs.push(h);
    }
    return tf.stack(hs) as tf.Tensor3D; // [T, B, H]
  });
}
