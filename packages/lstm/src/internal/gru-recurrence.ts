import * as tf from '@tensorflow/tfjs-core';

// The GRU recurrence with a hand-written backward pass through time (`tf.customGrad`), on every backend.
// Forward: one gate product per step. Backward: the per-step quantities that do not depend on the
// incoming gradient (gate derivatives, h_{t−1} − n, the recurrent n-projection) are formed for all steps at
// once; each step then costs ~9 small ops, and the recurrent weight's gradient is ONE product of the
// stacked recurrent-projection gradients [T·B, 3H] with the stacked previous states [T·B, H] (its bias's
// one sum), instead of T products accumulated by autodiff.

/**
 * Runs a GRU over precomputed input projections. Gate order r, z, n (PyTorch's); the reset gate
 * multiplies the recurrent projection including its bias:
 * n = tanh(W_in·x + b_in + r ⊙ (W_hn·h + b_hn)), h' = (1 − z) ⊙ n + z ⊙ h.
 *
 * xp [T, B, 3H] = x·W_ihᵀ + b_ih; whh [3H, H]; bhh [3H] or null; h0 [B, H] → hidden states [T, B, H].
 * Differentiable with respect to xp, whh, bhh and h0.
 */
export function gruRecurrence(
  xp: tf.Tensor3D,
  whh: tf.Tensor2D,
  bhh: tf.Tensor1D | null,
  h0: tf.Tensor2D,
): tf.Tensor3D {
  const [T, B, G] = xp.shape;
  const H = G / 3;
  const run = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xpIn, w, b, hInit] = args as [tf.Tensor3D, tf.Tensor2D, tf.Tensor1D, tf.Tensor2D];
    const save = args[4] as tf.GradSaveFunc;
    const step = (x: tf.Tensor3D, t: number, from: number, width: number): tf.Tensor2D =>
      tf.reshape(tf.slice(x, [t, 0, from], [1, B, width]), [B, width]);
    const hs: tf.Tensor2D[] = [];
    const rs: tf.Tensor2D[] = [];
    const zs: tf.Tensor2D[] = [];
    const ns: tf.Tensor2D[] = [];
    const hns: tf.Tensor2D[] = [];
    let h = hInit;
    for (let t = 0; t < T; t++) {
      const hp = tf.add(tf.matMul(h, w, false, true), b); // [B, 3H]
      const rz = tf.sigmoid(tf.add(step(xpIn, t, 0, 2 * H), tf.slice(hp, [0, 0], [B, 2 * H]))); // [B, 2H]
      const r = tf.slice(rz, [0, 0], [B, H]) as tf.Tensor2D;
      const z = tf.slice(rz, [0, H], [B, H]) as tf.Tensor2D;
      const hn = tf.slice(hp, [0, 2 * H], [B, H]) as tf.Tensor2D; // W_hn·h + b_hn
      const n = tf.tanh<tf.Tensor2D>(tf.add(step(xpIn, t, 2 * H, H), tf.mul(r, hn))); // [B, H]
      h = tf.add(n, tf.mul(z, tf.sub(h, n))); // (1 − z)·n + z·h   [B, H]
      hs.push(h);
      rs.push(r);
      zs.push(z);
      ns.push(n);
      hns.push(hn);
    }
    const Hs = tf.stack(hs) as tf.Tensor3D; // [T, B, H]
    save([w, hInit, Hs, tf.stack(rs), tf.stack(zs), tf.stack(ns), tf.stack(hns)]);
    return {
      value: Hs,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => gruBackward(dy as tf.Tensor3D, saved, T, B, H),
    };
  });
  return tf.tidy(() => run(xp, whh, bhh ?? tf.zeros<tf.Rank.R1>([G]), h0));
}

function gruBackward(dy: tf.Tensor3D, saved: tf.Tensor[], T: number, B: number, H: number): tf.Tensor[] {
  const [w, h0, Hs, R, Z, N, HN] = saved as [
    tf.Tensor2D,
    tf.Tensor2D,
    tf.Tensor3D,
    tf.Tensor3D,
    tf.Tensor3D,
    tf.Tensor3D,
    tf.Tensor3D,
  ];
  const h0r = tf.reshape(h0, [1, B, H]);
  const Hprev = T > 1 ? tf.concat([h0r, tf.slice(Hs, [0, 0, 0], [T - 1, B, H])], 0) : h0r; // [T, B, H]
  const Kn = tf.mul(tf.sub(1, Z), tf.sub(1, tf.square(N))); // ∂h/∂(n pre-activation)
  const Kz = tf.mul(tf.sub(Hprev, N), tf.mul(Z, tf.sub(1, Z))); // ∂h/∂(z pre-activation)
  const Kr = tf.mul(HN, tf.mul(R, tf.sub(1, R))); // ∂(n pre)/∂(r pre)
  const at = (x: tf.Tensor, t: number): tf.Tensor2D => tf.reshape(tf.slice(x, [t, 0, 0], [1, B, H]), [B, H]);
  const dAn: tf.Tensor2D[] = new Array<tf.Tensor2D>(T);
  const dAr: tf.Tensor2D[] = new Array<tf.Tensor2D>(T);
  const dAz: tf.Tensor2D[] = new Array<tf.Tensor2D>(T);
  const dHn: tf.Tensor2D[] = new Array<tf.Tensor2D>(T);
  let dNext: tf.Tensor2D | null = null; // the gradient reaching h_t through step t + 1
  for (let t = T - 1; t >= 0; t--) {
    const dh: tf.Tensor2D = dNext === null ? at(dy, t) : tf.add(at(dy, t), dNext); // [B, H]
    const an = tf.mul<tf.Tensor2D>(dh, at(Kn, t));
    const ar = tf.mul<tf.Tensor2D>(an, at(Kr, t));
    const az = tf.mul<tf.Tensor2D>(dh, at(Kz, t));
    const hn = tf.mul<tf.Tensor2D>(an, at(R, t)); // ∂/∂(W_hn·h + b_hn)
    const dhp = tf.concat([ar, az, hn], 1); // [B, 3H]: the gradient of h·W_hhᵀ + b_hh
    dNext = tf.add<tf.Tensor2D>(tf.mul(dh, at(Z, t)), tf.matMul(dhp, w)); // [B, H]
    dAn[t] = an;
    dAr[t] = ar;
    dAz[t] = az;
    dHn[t] = hn;
  }
  const stackFlat = (xs: tf.Tensor2D[]) => tf.reshape(tf.stack(xs), [T * B, H]); // [T·B, H]
  const [ar, az, an, hn] = [dAr, dAz, dAn, dHn].map(stackFlat) as [
    tf.Tensor2D,
    tf.Tensor2D,
    tf.Tensor2D,
    tf.Tensor2D,
  ];
  const dXp = tf.reshape(tf.concat([ar, az, an], 1), [T, B, 3 * H]); // [T, B, 3H]
  const dHp = tf.concat([ar, az, hn], 1); // [T·B, 3H]
  const dW = tf.matMul(dHp, tf.reshape(Hprev, [T * B, H]), true, false); // [3H, H]
  const dB = tf.sum(dHp, 0); // [3H]
  return [dXp, dW, dB, dNext as tf.Tensor2D];
}
