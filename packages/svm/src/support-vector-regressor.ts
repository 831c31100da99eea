import type { Matrix } from './input.js';
import { trainRegressor } from './internal/libsvm.js';
import { SupportVectorMachine, type SvmModel } from './internal/support-vector-machine.js';
import type { KernelOptions, ResolvedKernel } from './kernel.js';
import { solverSettings, type SolverOptions } from './solver-options.js';
import { jsonNumbers, jsonRows, type SvmType } from './svm-json.js';

/** Options every support vector regressor takes. */
export type RegressorOptions = KernelOptions & SolverOptions;

/** The fitted state of a regressor. */
export interface RegressorModel extends SvmModel {
  /** α⁺ − α⁻ of each support vector. */
  coef: Float64Array;
  rho: number;
}

/**
 * Support vector regression in libsvm's manner (the base of {@link SVR} and {@link NuSVR}):
 * f(x) = Σ (α⁺_i − α⁻_i) K(x_i, x) − ρ from one SMO problem over 2n variables.
 *
 * `await fit(x, y)` / `await predict(x)` take number[][], `{ data, shape: [n, d] }` or tf.Tensor; the
 * `…Sync` twins take plain arrays. Outputs are plain arrays. `predict` gives the values [n]; `score` is
 * the coefficient of determination R² = 1 − SS_res / SS_tot.
 */
export abstract class SupportVectorRegressor<O extends RegressorOptions> extends SupportVectorMachine<
  O,
  RegressorModel
> {
  /** C, ε (ε-SVR) and ν (ν-SVR, else null). */
  protected abstract params(): { C: number; epsilon: number; nu: number | null };

  protected train(x: Matrix, y: Float64Array, kernel: ResolvedKernel, where: string): RegressorModel {
    const { C, epsilon, nu } = this.params();
    const fit = trainRegressor({ x, kernel }, y, C, epsilon, nu, solverSettings(this.options));
    const supportList: number[] = [];
    fit.coef.forEach((c, i) => {
      if (c !== 0) supportList.push(i);
    });
    const support = Int32Array.from(supportList);
    return {
      ...this.fittedParts(x, kernel, support, [fit.iterations], fit.converged, where),
      coef: Float64Array.from(support, (i) => fit.coef[i] as number),
      rho: fit.rho,
    };
  }

  protected predictRows(x: Matrix): number[] {
    const model = this.fitted('predict');
    this.checkFeatures(x, model, 'predict');
    const nSV = model.support.length;
    const out: number[] = [];
    this.kernelChunks(x, model, (kv, _r0, rows) => {
      for (let t = 0; t < rows; t++) {
        let s = 0;
        for (let j = 0; j < nSV; j++) s += (model.coef[j] as number) * (kv[t * nSV + j] as number);
        out.push(s - model.rho);
      }
    });
    return out;
  }

  protected metric(pred: number[], y: Float64Array): number {
    return r2(pred, y);
  }

  /** α⁺ − α⁻ of each support vector, [1][nSV] (scikit-learn's `dual_coef_`). */
  get dualCoef(): number[][] {
    return [Array.from(this.fitted('dualCoef').coef)];
  }

  /** [−ρ] (scikit-learn's `intercept_`). */
  get intercept(): number[] {
    const rho = this.fitted('intercept').rho;
    return [rho === 0 ? 0 : -rho];
  }

  /** Builds an estimator of this type from JSON (used by the subclasses' `fromJSON`). */
  protected static restore<O extends RegressorOptions, T extends SupportVectorRegressor<O>>(
    json: unknown,
    type: SvmType,
    make: (options: Partial<O>) => T,
  ): T {
    return SupportVectorMachine.restoreWith<O, RegressorModel, T>(json, type, make, (j, options, where) => {
      const parts = SupportVectorMachine.readFittedParts(j, options, null, where);
      const coef = jsonRows(j.dualCoef, 1, parts.support.length, 'model.dualCoef', where);
      const intercept = jsonNumbers(j.intercept, 1, 'model.intercept', where)[0] as number;
      return { ...parts, coef, rho: intercept === 0 ? 0 : -intercept };
    });
  }
}

function r2(pred: number[], y: Float64Array): number {
  let mean = 0;
  for (const v of y) mean += v;
  mean /= y.length;
  let res = 0;
  let tot = 0;
  pred.forEach((p, i) => {
    const yi = y[i] as number;
    res += (yi - p) ** 2;
    tot += (yi - mean) ** 2;
  });
  // scikit-learn's convention for constant targets: 1 when the fit is perfect, else 0.
  if (tot === 0) return res === 0 ? 1 : 0;
  return 1 - res / tot;
}
