import type { QMatrix } from './q-matrix.js';

const LOWER = 0;
const UPPER = 1;
const FREE = 2;
// libsvm's stand-in for a non-positive curvature (non-PSD kernels such as sigmoid).
const TAU = 1e-12;

/** The dual problem min ½αᵀQα + pᵀα subject to yᵀα = Δ, 0 ≤ α_i ≤ C_i, and how to solve it. */
export interface SolverProblem {
  Q: QMatrix;
  /** Linear term p [l]. */
  p: Float64Array;
  /** Labels ±1 [l]. */
  y: Int8Array;
  /** Feasible starting point [l] (not modified). */
  alpha: Float64Array;
  /** Upper bound of each α_i [l]. */
  C: Float64Array;
  /** Stopping tolerance on the maximal KKT violation. */
  eps: number;
  shrinking: boolean;
  /** Iteration limit (Infinity for none). */
  maxIter: number;
  /** ν formulation: the extra constraint eᵀα = const, working pairs of equal label (libsvm's Solver_NU). */
  nu: boolean;
}

/** What the solver found. */
export interface SolverResult {
  /** α in the problem's original order. */
  alpha: Float64Array;
  /** The offset ρ of the decision function Σ α_i y_i K(x_i, x) − ρ. */
  rho: number;
  /** ν formulation only: libsvm's r, the scale that maps the ν solution back to C-SVM form. */
  r: number;
  /** Objective value ½αᵀQα + pᵀα. */
  obj: number;
  iterations: number;
  /** False when maxIter stopped it before the tolerance was met. */
  converged: boolean;
}

/**
 * The SMO algorithm of Fan, Chen & Lin (JMLR 2005) as libsvm implements it: second-order working-set
 * selection, shrinking with a final unshrink and gradient reconstruction, and G_bar (the gradient part
 * from variables at their upper bound) so shrunk variables can be brought back exactly.
 */
class Solver {
  private readonly l: number;
  private activeSize: number;
  private readonly y: Int8Array;
  private readonly G: Float64Array;
  private readonly Gbar: Float64Array;
  private readonly alpha: Float64Array;
  private readonly status: Uint8Array;
  /**
   * I_up / I_low membership per position as additive penalties: 0 for members, −Infinity for the rest.
   * Adding one to a candidate value drops non-members from a max without a branch per element: the
   * membership pattern is data-dependent and mispredicts, the rare max updates do not.
   */
  private readonly upPenalty: Float64Array;
  private readonly lowPenalty: Float64Array;
  private readonly Q: QMatrix;
  private readonly QD: Float64Array;
  private readonly eps: number;
  private readonly C: Float64Array;
  private readonly p: Float64Array;
  private readonly activeSet: Int32Array;
  private unshrink = false;
  private readonly nu: boolean;
  private outI = -1;
  private outJ = -1;
  r = 0;

  constructor(problem: SolverProblem) {
    const l = problem.p.length;
    this.l = l;
    this.Q = problem.Q;
    this.QD = problem.Q.QD;
    this.p = Float64Array.from(problem.p);
    this.y = Int8Array.from(problem.y);
    this.alpha = Float64Array.from(problem.alpha);
    this.C = Float64Array.from(problem.C);
    this.eps = problem.eps;
    this.nu = problem.nu;
    this.status = new Uint8Array(l);
    this.upPenalty = new Float64Array(l);
    this.lowPenalty = new Float64Array(l);
    for (let i = 0; i < l; i++) this.updateStatus(i);
    this.activeSet = new Int32Array(l);
    for (let i = 0; i < l; i++) this.activeSet[i] = i;
    this.activeSize = l;
    this.G = new Float64Array(l);
    this.Gbar = new Float64Array(l);
    for (let i = 0; i < l; i++) this.G[i] = this.p[i] as number;
    for (let i = 0; i < l; i++) {
      if (this.status[i] === LOWER) continue;
      const Qi = this.Q.getQ(i, l);
      const ai = this.alpha[i] as number;
      for (let j = 0; j < l; j++) this.G[j] = (this.G[j] as number) + ai * (Qi[j] as number);
      if (this.status[i] === UPPER) {
        const ci = this.C[i] as number;
        for (let j = 0; j < l; j++) this.Gbar[j] = (this.Gbar[j] as number) + ci * (Qi[j] as number);
      }
    }
  }

  private updateStatus(i: number): void {
    const a = this.alpha[i] as number;
    const st = a >= (this.C[i] as number) ? UPPER : a <= 0 ? LOWER : FREE;
    this.status[i] = st;
    const pos = this.y[i] === 1;
    this.upPenalty[i] = st !== (pos ? UPPER : LOWER) ? 0 : -Infinity;
    this.lowPenalty[i] = st !== (pos ? LOWER : UPPER) ? 0 : -Infinity;
  }

  private swapIndex(i: number, j: number): void {
    this.Q.swapIndex(i, j);
    swapI8(this.y, i, j);
    swapF64(this.G, i, j);
    swapI8(this.status, i, j);
    swapF64(this.upPenalty, i, j);
    swapF64(this.lowPenalty, i, j);
    swapF64(this.alpha, i, j);
    swapF64(this.p, i, j);
    swapI32(this.activeSet, i, j);
    swapF64(this.Gbar, i, j);
    swapF64(this.C, i, j);
  }

  private reconstructGradient(): void {
    const { l, activeSize, G, Gbar, p, status, alpha } = this;
    if (activeSize === l) return;
    for (let j = activeSize; j < l; j++) G[j] = (Gbar[j] as number) + (p[j] as number);
    let nrFree = 0;
    for (let j = 0; j < activeSize; j++) if (status[j] === FREE) nrFree++;
    // Whichever way touches fewer kernel entries: rows of the inactive, or full rows of the free.
    if (nrFree * l > 2 * activeSize * (l - activeSize)) {
      for (let i = activeSize; i < l; i++) {
        const Qi = this.Q.getQ(i, activeSize);
        let g = G[i] as number;
        for (let j = 0; j < activeSize; j++)
          if (status[j] === FREE) g += (alpha[j] as number) * (Qi[j] as number);
        G[i] = g;
      }
    } else {
      for (let i = 0; i < activeSize; i++) {
        if (status[i] !== FREE) continue;
        const Qi = this.Q.getQ(i, l);
        const ai = alpha[i] as number;
        for (let j = activeSize; j < l; j++) G[j] = (G[j] as number) + ai * (Qi[j] as number);
      }
    }
  }

  // The loop is kept small and each step is its own method: V8 optimises a function on the type feedback
  // it has seen, and one large loop body deoptimises again each time a branch runs for the first time.
  solve(maxIter: number, shrinking: boolean): SolverResult {
    const l = this.l;
    let iter = 0;
    let counter = Math.min(l, 1000) + 1;
    let converged = true;
    for (;;) {
      if (iter >= maxIter) {
        converged = false;
        break;
      }
      if (--counter === 0) {
        counter = Math.min(l, 1000);
        if (shrinking) this.doShrinking();
      }
      if (this.selectWorkingSet()) {
        this.reconstructGradient();
        this.activeSize = l;
        if (this.selectWorkingSet()) break;
        counter = 1; // shrink again on the next iteration
      }
      ++iter;
      this.step(this.outI, this.outJ);
    }
    if (!converged && this.activeSize < l) {
      // Stopped early while shrunk: bring the whole gradient back so ρ sees every variable.
      this.reconstructGradient();
      this.activeSize = l;
    }
    const rho = this.nu ? this.calculateRhoNu() : this.calculateRho();
    const { alpha, G, p } = this;
    let v = 0;
    for (let i = 0; i < l; i++) v += (alpha[i] as number) * ((G[i] as number) + (p[i] as number));
    const out = new Float64Array(l);
    for (let i = 0; i < l; i++) out[this.activeSet[i] as number] = alpha[i] as number;
    return { alpha: out, rho, r: this.r, obj: v / 2, iterations: iter, converged };
  }

  /** One SMO step on the pair (i, j): the analytic two-variable update clipped to the box, then G, status and G_bar. */
  private step(i: number, j: number): void {
    const { y, G, alpha, C, QD } = this;
    const activeSize = this.activeSize;
    const Qi = this.Q.getQ(i, activeSize);
    const Qj = this.Q.getQ(j, activeSize);
    const Ci = C[i] as number;
    const Cj = C[j] as number;
    const oldAi = alpha[i] as number;
    const oldAj = alpha[j] as number;
    let ai = oldAi;
    let aj = oldAj;
    if (y[i] !== y[j]) {
      let quad = (QD[i] as number) + (QD[j] as number) + 2 * (Qi[j] as number);
      if (quad <= 0) quad = TAU;
      const delta = (-(G[i] as number) - (G[j] as number)) / quad;
      const diff = ai - aj;
      ai += delta;
      aj += delta;
      if (diff > 0) {
        if (aj < 0) {
          aj = 0;
          ai = diff;
        }
      } else if (ai < 0) {
        ai = 0;
        aj = -diff;
      }
      if (diff > Ci - Cj) {
        if (ai > Ci) {
          ai = Ci;
          aj = Ci - diff;
        }
      } else if (aj > Cj) {
        aj = Cj;
        ai = Cj + diff;
      }
    } else {
      let quad = (QD[i] as number) + (QD[j] as number) - 2 * (Qi[j] as number);
      if (quad <= 0) quad = TAU;
      const delta = ((G[i] as number) - (G[j] as number)) / quad;
      const sum = ai + aj;
      ai -= delta;
      aj += delta;
      if (sum > Ci) {
        if (ai > Ci) {
          ai = Ci;
          aj = sum - Ci;
        }
      } else if (aj < 0) {
        aj = 0;
        ai = sum;
      }
      if (sum > Cj) {
        if (aj > Cj) {
          aj = Cj;
          ai = sum - Cj;
        }
      } else if (ai < 0) {
        ai = 0;
        aj = sum;
      }
    }
    alpha[i] = ai;
    alpha[j] = aj;
    updateGradient(G, Qi, Qj, ai - oldAi, aj - oldAj, activeSize);
    const ui = this.status[i] === UPPER;
    const uj = this.status[j] === UPPER;
    this.updateStatus(i);
    this.updateStatus(j);
    if (ui !== (this.status[i] === UPPER)) this.updateGbar(i, ui ? -Ci : Ci);
    if (uj !== (this.status[j] === UPPER)) this.updateGbar(j, uj ? -Cj : Cj);
  }

  /** G_bar += s · Q_i over all l variables (α_i reached or left its upper bound). */
  private updateGbar(i: number, s: number): void {
    const l = this.l;
    const Qfull = this.Q.getQ(i, l);
    const Gbar = this.Gbar;
    for (let k = 0; k < l; k++) Gbar[k] = (Gbar[k] as number) + s * (Qfull[k] as number);
  }

  /** Picks the working pair into outI/outJ; returns true when the problem is already optimal within eps. */
  private selectWorkingSet(): boolean {
    return this.nu ? this.selectWorkingSetNu() : this.selectWorkingSetC();
  }

  // libsvm's two loops with the label folded in (v = −y_t ∇f_t) and membership as penalties. Multiplying by
  // ±1 and 2 and adding 0 are exact, so every comparison sees the numbers libsvm's branchy form sees.
  private selectWorkingSetC(): boolean {
    const { activeSize, y, G, upPenalty, lowPenalty, QD } = this;
    let Gmax = -Infinity;
    let Gmax2 = -Infinity;
    let GmaxIdx = -1;
    let GminIdx = -1;
    let objDiffMin = Infinity;
    for (let t = 0; t < activeSize; t++) {
      const v = (upPenalty[t] as number) - (y[t] as number) * (G[t] as number);
      if (v >= Gmax) {
        Gmax = v;
        GmaxIdx = t;
      }
    }
    const i = GmaxIdx;
    if (i !== -1) {
      const Qi = this.Q.getQ(i, activeSize);
      const yi2 = 2 * (y[i] as number);
      const QDi = QD[i] as number;
      for (let j = 0; j < activeSize; j++) {
        const yj = y[j] as number;
        // −Infinity for j outside I_low: no effect on Gmax2, and gradDiff is never > 0.
        const v = (lowPenalty[j] as number) + yj * (G[j] as number);
        if (v >= Gmax2) Gmax2 = v;
        const gradDiff = Gmax + v;
        if (gradDiff > 0) {
          const quad = QDi + (QD[j] as number) - yi2 * yj * (Qi[j] as number);
          const objDiff = -(gradDiff * gradDiff) / (quad > 0 ? quad : TAU);
          if (objDiff <= objDiffMin) {
            GminIdx = j;
            objDiffMin = objDiff;
          }
        }
      }
    }
    if (Gmax + Gmax2 < this.eps || GminIdx === -1) return true;
    this.outI = GmaxIdx;
    this.outJ = GminIdx;
    return false;
  }

  private selectWorkingSetNu(): boolean {
    const { activeSize, y, G, status, QD } = this;
    let Gmaxp = -Infinity;
    let Gmaxp2 = -Infinity;
    let GmaxpIdx = -1;
    let Gmaxn = -Infinity;
    let Gmaxn2 = -Infinity;
    let GmaxnIdx = -1;
    let GminIdx = -1;
    let objDiffMin = Infinity;
    for (let t = 0; t < activeSize; t++) {
      if (y[t] === 1) {
        if (status[t] !== UPPER && -(G[t] as number) >= Gmaxp) {
          Gmaxp = -(G[t] as number);
          GmaxpIdx = t;
        }
      } else if (status[t] !== LOWER && (G[t] as number) >= Gmaxn) {
        Gmaxn = G[t] as number;
        GmaxnIdx = t;
      }
    }
    const ip = GmaxpIdx;
    const ineg = GmaxnIdx;
    const Qip = ip !== -1 ? this.Q.getQ(ip, activeSize) : null;
    const Qin = ineg !== -1 ? this.Q.getQ(ineg, activeSize) : null;
    for (let j = 0; j < activeSize; j++) {
      const Gj = G[j] as number;
      if (y[j] === 1) {
        if (status[j] !== LOWER) {
          const gradDiff = Gmaxp + Gj;
          if (Gj >= Gmaxp2) Gmaxp2 = Gj;
          if (gradDiff > 0 && Qip) {
            const quad = (QD[ip] as number) + (QD[j] as number) - 2 * (Qip[j] as number);
            const objDiff = -(gradDiff * gradDiff) / (quad > 0 ? quad : TAU);
            if (objDiff <= objDiffMin) {
              GminIdx = j;
              objDiffMin = objDiff;
            }
          }
        }
      } else if (status[j] !== UPPER) {
        const gradDiff = Gmaxn - Gj;
        if (-Gj >= Gmaxn2) Gmaxn2 = -Gj;
        if (gradDiff > 0 && Qin) {
          const quad = (QD[ineg] as number) + (QD[j] as number) - 2 * (Qin[j] as number);
          const objDiff = -(gradDiff * gradDiff) / (quad > 0 ? quad : TAU);
          if (objDiff <= objDiffMin) {
            GminIdx = j;
            objDiffMin = objDiff;
          }
        }
      }
    }
    if (Math.max(Gmaxp + Gmaxp2, Gmaxn + Gmaxn2) < this.eps || GminIdx === -1) return true;
    this.outI = y[GminIdx] === 1 ? GmaxpIdx : GmaxnIdx;
    this.outJ = GminIdx;
    return false;
  }

  private beShrunk(i: number, Gmax1: number, Gmax2: number): boolean {
    const g = this.G[i] as number;
    if (this.status[i] === UPPER) return this.y[i] === 1 ? -g > Gmax1 : -g > Gmax2;
    if (this.status[i] === LOWER) return this.y[i] === 1 ? g > Gmax2 : g > Gmax1;
    return false;
  }

  private beShrunkNu(i: number, Gmax1: number, Gmax2: number, Gmax3: number, Gmax4: number): boolean {
    const g = this.G[i] as number;
    if (this.status[i] === UPPER) return this.y[i] === 1 ? -g > Gmax1 : -g > Gmax4;
    if (this.status[i] === LOWER) return this.y[i] === 1 ? g > Gmax2 : g > Gmax3;
    return false;
  }

  private doShrinking(): void {
    if (this.nu) {
      this.doShrinkingNu();
      return;
    }
    const { y, G, status } = this;
    let Gmax1 = -Infinity; // max { −y_i ∇f_i | i ∈ I_up }
    let Gmax2 = -Infinity; // max { y_i ∇f_i | i ∈ I_low }
    for (let i = 0; i < this.activeSize; i++) {
      const g = G[i] as number;
      if (y[i] === 1) {
        if (status[i] !== UPPER && -g >= Gmax1) Gmax1 = -g;
        if (status[i] !== LOWER && g >= Gmax2) Gmax2 = g;
      } else {
        if (status[i] !== UPPER && -g >= Gmax2) Gmax2 = -g;
        if (status[i] !== LOWER && g >= Gmax1) Gmax1 = g;
      }
    }
    if (!this.unshrink && Gmax1 + Gmax2 <= this.eps * 10) {
      this.unshrink = true;
      this.reconstructGradient();
      this.activeSize = this.l;
    }
    for (let i = 0; i < this.activeSize; i++) {
      if (!this.beShrunk(i, Gmax1, Gmax2)) continue;
      this.activeSize--;
      while (this.activeSize > i) {
        if (!this.beShrunk(this.activeSize, Gmax1, Gmax2)) {
          this.swapIndex(i, this.activeSize);
          break;
        }
        this.activeSize--;
      }
    }
  }

  private doShrinkingNu(): void {
    const { y, G, status } = this;
    let Gmax1 = -Infinity; // max { −y_i ∇f_i | y_i = +1, i ∈ I_up }
    let Gmax2 = -Infinity; // max { y_i ∇f_i | y_i = +1, i ∈ I_low }
    let Gmax3 = -Infinity; // max { −y_i ∇f_i | y_i = −1, i ∈ I_up }
    let Gmax4 = -Infinity; // max { y_i ∇f_i | y_i = −1, i ∈ I_low }
    for (let i = 0; i < this.activeSize; i++) {
      const g = G[i] as number;
      if (status[i] !== UPPER) {
        if (y[i] === 1) {
          if (-g > Gmax1) Gmax1 = -g;
        } else if (-g > Gmax4) Gmax4 = -g;
      }
      if (status[i] !== LOWER) {
        if (y[i] === 1) {
          if (g > Gmax2) Gmax2 = g;
        } else if (g > Gmax3) Gmax3 = g;
      }
    }
    if (!this.unshrink && Math.max(Gmax1 + Gmax2, Gmax3 + Gmax4) <= this.eps * 10) {
      this.unshrink = true;
      this.reconstructGradient();
      this.activeSize = this.l;
    }
    for (let i = 0; i < this.activeSize; i++) {
      if (!this.beShrunkNu(i, Gmax1, Gmax2, Gmax3, Gmax4)) continue;
      this.activeSize--;
      while (this.activeSize > i) {
        if (!this.beShrunkNu(this.activeSize, Gmax1, Gmax2, Gmax3, Gmax4)) {
          this.swapIndex(i, this.activeSize);
          break;
        }
        this.activeSize--;
      }
    }
  }

  private calculateRho(): number {
    const { y, G, status } = this;
    let nrFree = 0;
    let ub = Infinity;
    let lb = -Infinity;
    let sumFree = 0;
    for (let i = 0; i < this.activeSize; i++) {
      const yG = (y[i] as number) * (G[i] as number);
      if (status[i] === UPPER) {
        if (y[i] === -1) ub = Math.min(ub, yG);
        else lb = Math.max(lb, yG);
      } else if (status[i] === LOWER) {
        if (y[i] === 1) ub = Math.min(ub, yG);
        else lb = Math.max(lb, yG);
      } else {
        ++nrFree;
        sumFree += yG;
      }
    }
    return nrFree > 0 ? sumFree / nrFree : (ub + lb) / 2;
  }

  private calculateRhoNu(): number {
    const { y, G, status } = this;
    let nrFree1 = 0;
    let nrFree2 = 0;
    let ub1 = Infinity;
    let ub2 = Infinity;
    let lb1 = -Infinity;
    let lb2 = -Infinity;
    let sumFree1 = 0;
    let sumFree2 = 0;
    for (let i = 0; i < this.activeSize; i++) {
      const g = G[i] as number;
      if (y[i] === 1) {
        if (status[i] === UPPER) lb1 = Math.max(lb1, g);
        else if (status[i] === LOWER) ub1 = Math.min(ub1, g);
        else {
          ++nrFree1;
          sumFree1 += g;
        }
      } else if (status[i] === UPPER) lb2 = Math.max(lb2, g);
      else if (status[i] === LOWER) ub2 = Math.min(ub2, g);
      else {
        ++nrFree2;
        sumFree2 += g;
      }
    }
    const r1 = nrFree1 > 0 ? sumFree1 / nrFree1 : (ub1 + lb1) / 2;
    const r2 = nrFree2 > 0 ? sumFree2 / nrFree2 : (ub2 + lb2) / 2;
    this.r = (r1 + r2) / 2;
    return (r1 - r2) / 2;
  }
}

/** G[k] += Q_i[k]·Δα_i + Q_j[k]·Δα_j over the active set. */
function updateGradient(
  G: Float64Array,
  Qi: Float32Array,
  Qj: Float32Array,
  dAi: number,
  dAj: number,
  n: number,
): void {
  for (let k = 0; k < n; k++) G[k] = (G[k] as number) + ((Qi[k] as number) * dAi + (Qj[k] as number) * dAj);
}

// One swap per element type, so every call site stays monomorphic.
function swapF64(a: Float64Array, i: number, j: number): void {
  const t = a[i] as number;
  a[i] = a[j] as number;
  a[j] = t;
}

function swapI8(a: Int8Array | Uint8Array, i: number, j: number): void {
  const t = a[i] as number;
  a[i] = a[j] as number;
  a[j] = t;
}

function swapI32(a: Int32Array, i: number, j: number): void {
  const t = a[i] as number;
  a[i] = a[j] as number;
  a[j] = t;
}

/** Solves one dual problem with libsvm's SMO (see {@link SolverProblem}). */
export function solveSmo(problem: SolverProblem): SolverResult {
  return new Solver(problem).solve(problem.maxIter, problem.shrinking);
}
