import { DataError, ShapeError } from '@ml/core';
import { describe, expect, it } from 'vitest';

import { toMatrix, toTargets } from './input.js';
import { SVC } from './svc.js';
import { SVR } from './svr.js';

describe('input checks', () => {
  const x = [
    [0, 0],
    [1, 1],
    [0, 1],
    [1, 0],
  ];
  const y = [0, 1, 0, 1];

  it('copies number[][] and { data, shape } into a float64 matrix', () => {
    expect(
      toMatrix(
        [
          [1, 2],
          [3, 4],
        ],
        'f',
      ),
    ).toEqual({ data: Float64Array.from([1, 2, 3, 4]), rows: 2, cols: 2 });
    expect(toMatrix({ data: [1, 2, 3, 4, 5, 6], shape: [3, 2] }, 'f')).toEqual({
      data: Float64Array.from([1, 2, 3, 4, 5, 6]),
      rows: 3,
      cols: 2,
    });
    expect(toTargets(Int32Array.from([1, 2]), 2, 'f')).toEqual(Float64Array.from([1, 2]));
  });

  it('empty data is a DataError', () => {
    expect(() => new SVC().fitSync([], [])).toThrow(
      new DataError('SVC.fit: x must have at least one row, got 0 rows'),
    );
    expect(() => new SVC().fitSync([[]], [0])).toThrow(
      new DataError('SVC.fit: x rows must have at least one feature, got 0 columns'),
    );
    expect(() => new SVR().fitSync({ data: [], shape: [0, 3] }, [])).toThrow(
      new DataError('SVR.fit: x must have at least one row, got shape [0, 3]'),
    );
  });

  it('rows of different lengths and bad shapes are ShapeErrors', () => {
    expect(() => new SVC().fitSync([[0, 0], [1], [0, 1]], [0, 1, 0])).toThrow(
      new ShapeError('SVC.fit: every row of x must have 2 values like row 0, got 1 at row 1'),
    );
    expect(() => new SVC().fitSync({ data: [1, 2, 3], shape: [2, 2] }, [0, 1])).toThrow(
      new ShapeError('SVC.fit: x data has 3 values but shape [2, 2] needs 4'),
    );
    expect(() => new SVC().fitSync({ data: [1, 2, 3, 4], shape: [4] }, y)).toThrow(
      new ShapeError('SVC.fit: x must have shape [n, d], got [4]'),
    );
    expect(() => new SVC().fitSync([1, 2, 3] as never, y)).toThrow(
      new ShapeError('SVC.fit: x must be an array of rows (number[][]), got number at row 0'),
    );
    expect(() => new SVC().fitSync(x, [0, 1, 0])).toThrow(
      new ShapeError('SVC.fit: y must have one value per row of x (4), got 3'),
    );
  });

  it('NaN and Infinity are DataErrors naming the position', () => {
    expect(() =>
      new SVC().fitSync(
        [
          [0, 0],
          [1, NaN],
          [0, 1],
          [1, 0],
        ],
        y,
      ),
    ).toThrow(new DataError('SVC.fit: x must be finite numbers, got NaN at row 1, column 1'));
    expect(() => new SVR().fitSync({ data: [0, 1, Infinity, 3], shape: [2, 2] }, [0, 1])).toThrow(
      new DataError('SVR.fit: x must be finite numbers, got Infinity at row 1, column 0'),
    );
    expect(() => new SVC().fitSync(x, [0, 1, NaN, 1])).toThrow(
      new DataError('SVC.fit: y must be finite numbers, got NaN at index 2'),
    );
    const svc = new SVC().fitSync(x, y);
    expect(() => svc.predictSync([[0, -Infinity]])).toThrow(
      new DataError('SVC.predict: x must be finite numbers, got -Infinity at row 0, column 1'),
    );
  });

  it('a single class is a DataError', () => {
    expect(() => new SVC().fitSync(x, [3, 3, 3, 3])).toThrow(
      new DataError('SVC.fit: y must hold at least two classes, got 1 class (label 3) in 4 rows'),
    );
  });

  it('predicting with the wrong number of features is a ShapeError', () => {
    const svc = new SVC().fitSync(x, y);
    expect(() => svc.predictSync([[0, 1, 2]])).toThrow(
      new ShapeError('SVC.predict: x must have 2 features (as in training), got shape [1, 3]'),
    );
    expect(() => svc.decisionFunctionSync([[0]])).toThrow(
      new ShapeError('SVC.decisionFunction: x must have 2 features (as in training), got shape [1, 1]'),
    );
    const svr = new SVR().fitSync(x, y);
    expect(() => svr.predictSync([[0, 1, 2]])).toThrow(
      new ShapeError('SVR.predict: x must have 2 features (as in training), got shape [1, 3]'),
    );
  });
});
