import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { ConfigError, DataError } from '@ml/core';
import { onBackend } from '@ml/core/testing';

import { csvToTensors, parseCsv, readCsvFile } from './csv.js';

const IRIS_HEAD = `sepal_length,sepal_width,petal_length,petal_width,species
5.1,3.5,1.4,0.2,setosa
7.0,3.2,4.7,1.4,versicolor

6.3,3.3,6.0,2.5,virginica
4.9,3.0,1.4,0.2,setosa
`;

describe('CSV reader', () => {
  beforeAll(() => onBackend('cpu'));

  it('parses a header, number columns and a string label column into tensors', async () => {
    const table = parseCsv(IRIS_HEAD, { labelColumn: 'species' });
    expect(table.columns).toEqual(['sepal_length', 'sepal_width', 'petal_length', 'petal_width', 'species']);
    expect(table.rowCount).toBe(4);
    expect(Array.from(table.values.sepal_length as Float64Array)).toEqual([5.1, 7.0, 6.3, 4.9]);
    expect(table.values.species).toEqual(['setosa', 'versicolor', 'virginica', 'setosa']);
    const { features, labels, classNames, featureNames } = csvToTensors(table);
    expect(features.shape).toEqual([4, 4]);
    expect(featureNames).toHaveLength(4);
    expect(classNames).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(labels?.dtype).toBe('int32');
    expect(Array.from(await labels!.data())).toEqual([0, 1, 2, 0]);
    expect(Array.from(await features.data()).slice(4, 8)).toEqual([
      7, 3.200000047683716, 4.699999809265137, 1.399999976158142,
    ]);
    tf.dispose([features, labels!]);
  });

  it('typed columns, quotes, other delimiters, no header, numeric labels, files', async () => {
    const t = parseCsv('id;note;y\n1;"a; b";0\n2;"say ""hi""";1\n', {
      delimiter: ';',
      types: { note: 'string' },
      labelColumn: 'y',
    });
    expect(t.values.note).toEqual(['a; b', 'say "hi"']);
    const { labels, features } = csvToTensors(t, { featureColumns: ['id'] });
    expect(labels?.dtype).toBe('int32');
    expect(features.shape).toEqual([2, 1]);
    tf.dispose([labels!, features]);
    const noHeader = parseCsv('1,2\n3,4e-1\n', { header: false });
    expect(noHeader.columns).toEqual(['0', '1']);
    expect(Array.from(noHeader.values['1'] as Float64Array)).toEqual([2, 0.4]);
    const reg = csvToTensors(parseCsv('x,y\n1,0.5\n2,1.5\n', { labelColumn: 'y' }));
    expect(reg.labels?.dtype).toBe('float32');
    tf.dispose([reg.labels!, reg.features]);
    const dir = await mkdtemp(join(tmpdir(), 'csv-'));
    await writeFile(join(dir, 'iris.csv'), IRIS_HEAD);
    expect((await readCsvFile(join(dir, 'iris.csv'), { labelColumn: 'species' })).rowCount).toBe(4);
  });

  it('a ragged row is a DataError naming the row', () => {
    const csv = 'a,b,c\n1,2,3\n4,5\n';
    expect(() => parseCsv(csv, { name: 'data.csv' })).toThrow(DataError);
    expect(() => parseCsv(csv, { name: 'data.csv' })).toThrow(
      'parseCsv: data.csv data row 2 has 2 fields, expected 3 (as the header)',
    );
  });

  it('a non-numeric cell is a DataError naming row and column', () => {
    expect(() => parseCsv('a,b\n1,2\n3,x7\n', { name: 'data.csv' })).toThrow(
      'parseCsv: data.csv data row 2, column \'b\' must be a number, got "x7"',
    );
    expect(() => parseCsv('a,b\n1,\n', { name: 'd' })).toThrow(
      'parseCsv: d data row 1, column \'b\' must be a number, got ""',
    );
  });

  it('other malformed input', () => {
    expect(() => parseCsv('a,a\n1,2\n', { name: 'd' })).toThrow("parseCsv: d header names column 'a' twice");
    expect(() => parseCsv('a,b\n"1,2\n', { name: 'd' })).toThrow(
      'parseCsv: d has a quoting error in data row 1',
    );
    expect(() => parseCsv('', { name: 'd' })).toThrow('parseCsv: d has no rows');
    expect(() => parseCsv(Uint8Array.of(0x61, 0xff, 0x0a), { name: 'd' })).toThrow(
      'parseCsv: d is not valid UTF-8 text',
    );
    expect(() => parseCsv('a,b\n1,2\n', { labelColumn: 'c' })).toThrow(ConfigError);
    expect(() => parseCsv('a,b\n1,2\n', { labelColumn: 'c' })).toThrow(
      "parseCsv: labelColumn 'c' is not a column of CSV data (columns: a, b)",
    );
  });

  it('property: random text or bytes return a table or throw DataError', () => {
    const csvish = fc
      .array(fc.constantFrom('1', '2.5', ',', '\n', '"', 'x', ' ', '\r', '-', 'e'), { maxLength: 80 })
      .map((a) => a.join(''));
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 200 }), csvish, fc.uint8Array({ maxLength: 200 })),
        (input) => {
          try {
            const t = parseCsv(input);
            for (const c of t.columns) expect(t.values[c]).toHaveLength(t.rowCount);
          } catch (e) {
            expect(e).toBeInstanceOf(DataError);
          }
        },
      ),
      { numRuns: 2000, seed: 7 },
    );
  });
});
