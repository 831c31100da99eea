import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';
import { expect, test } from 'vitest';

// A minifier renames classes (`class iy extends Error`), so names taken from `constructor.name` print as
// "iy: useBackend: …" in a bundled page. Each class sets its name as a string literal instead.
test('error classes keep their names when minified', async () => {
  const out = await build({
    entryPoints: [fileURLToPath(new URL('./errors.ts', import.meta.url))],
    bundle: true,
    minify: true,
    format: 'esm',
    write: false,
  });
  const code = out.outputFiles[0]!.text;
  expect(code).not.toMatch(/class ConfigError/); // the minifier did rename the classes
  const mod = (await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`)) as Record<
    string,
    new (message: string) => Error
  >;
  for (const name of [
    'MlError',
    'ConfigError',
    'ShapeError',
    'DataError',
    'CheckpointError',
    'BackendError',
  ]) {
    const err = new mod[name]!('m');
    expect(err.name).toBe(name);
    expect(String(err)).toBe(`${name}: m`);
  }
});
