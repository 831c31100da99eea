import { describe, expect, it } from 'vitest';

import { DataError } from '@ml/core';

import { defaultDataDir, downloadVerified, sha256Hex } from './download.js';

describe('download helpers', () => {
  it('sha256Hex matches the FIPS 180-2 test vector', async () => {
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('defaultDataDir honours ML_DATA_DIR, then XDG_CACHE_HOME', async () => {
    const saved = { ml: process.env.ML_DATA_DIR, xdg: process.env.XDG_CACHE_HOME };
    try {
      process.env.ML_DATA_DIR = '/data/ml';
      expect(await defaultDataDir()).toBe('/data/ml');
      delete process.env.ML_DATA_DIR;
      process.env.XDG_CACHE_HOME = '/xdg';
      expect(await defaultDataDir()).toBe('/xdg/ml-datasets');
    } finally {
      if (saved.ml === undefined) delete process.env.ML_DATA_DIR;
      else process.env.ML_DATA_DIR = saved.ml;
      if (saved.xdg === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved.xdg;
    }
  });

  it('a network failure is a DataError naming the URL', async () => {
    const offline = (): Promise<never> => Promise.reject(new Error('getaddrinfo ENOTFOUND example.invalid'));
    const attempt = downloadVerified(
      'https://example.invalid/data',
      { name: 'f.gz', sha256: '0'.repeat(64) },
      offline,
    );
    await expect(attempt).rejects.toThrow(DataError);
    await expect(
      downloadVerified('https://example.invalid/data', { name: 'f.gz', sha256: '0'.repeat(64) }, offline),
    ).rejects.toThrow(
      'download: cannot get https://example.invalid/data/f.gz (getaddrinfo ENOTFOUND example.invalid)',
    );
  });
});
