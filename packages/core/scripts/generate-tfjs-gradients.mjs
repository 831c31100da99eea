#!/usr/bin/env node
// Generates src/internal/tfjs-gradients.generated.ts: tfjs-core 4.22's own gradient configs (the ones its ESM
// `dist/register_all_gradients.js` registers), bundled so that every import of tfjs-core's public API goes to
// `@tensorflow/tfjs-core` itself and only small private helpers (internal ops such as conv2DBackpropFilter,
// axis helpers) are inlined. The result loads in plain Node (ESM and CommonJS through require(esm)) and in
// bundlers, registers nothing at import, and replaces the 240 kB tfjs-layers bundle that used to be loaded
// only for its side effect of registering these gradients.
//
//   node scripts/generate-tfjs-gradients.mjs      (run after a tfjs upgrade; the output is committed)
/* global console, process */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', 'package.json'));
const corePkg = require.resolve('@tensorflow/tfjs-core/package.json');
const dist = join(dirname(corePkg), 'dist');
const version = JSON.parse(readFileSync(corePkg, 'utf8')).version;
const tf = require('@tensorflow/tfjs-core');
const publicApi = new Set(Object.keys(tf));
// Modules whose state must exist once: importing their private copies would fork tfjs.
const FORBIDDEN = /\/(engine|tensor|environment|kernel_registry|global_util|globals|gradients|tape)\.js$/;

// Private modules replaced by a few lines over the public API. Inside a gradient every argument is already a
// tensor, so convertToTensor only has to pass it through (or wrap a plain value, as tfjs does).
const SHIMS = {
  'tensor_util_env.js': `import { Tensor, tensor } from '@tensorflow/tfjs-core';
export function convertToTensor(x, argName, functionName, parseAsDtype = 'numeric') {
  if (x instanceof Tensor) return x;
  return tensor(x, undefined, parseAsDtype === 'numeric' || parseAsDtype === 'string_or_numeric' ? undefined : parseAsDtype);
}
export function convertToTensorArray(arg, argName, functionName, parseAsDtype = 'numeric') {
  return arg.map((t, i) => convertToTensor(t, argName + '[' + i + ']', functionName, parseAsDtype));
}
`,
};

const gradFiles = readdirSync(join(dist, 'gradients'))
  .filter((f) => f.endsWith('_grad.js'))
  .sort();
const entry = gradFiles.map((f) => {
  const src = readFileSync(join(dist, 'gradients', f), 'utf8');
  const name = /export const (\w+GradConfig)/.exec(src)?.[1];
  if (name === undefined) throw new Error(`${f}: no exported *GradConfig`);
  return { f, name };
});
const entrySource =
  entry.map(({ f, name }) => `import { ${name} } from './gradients/${f}';`).join('\n') +
  `\nexport const TFJS_GRADIENT_CONFIGS = [${entry.map((e) => e.name).join(', ')}];\n`;

// Rewrites `import { a, b as c } from '../x'` so that names tfjs-core exports publicly come from the package.
function rewriteImports(source, file) {
  return source.replace(
    /import\s+(\*\s+as\s+(\w+)|\{([^}]*)\})\s+from\s+'([^']+)';/g,
    (all, _clause, ns, named, from) => {
      if (!from.startsWith('.')) return all;
      if (ns !== undefined) {
        // `import * as util from '../util'` → the public namespace of the same name, when it is that module.
        const sameModule = from.endsWith(`/${ns}`) || from === `./${ns}`;
        if (publicApi.has(ns) && (sameModule || ns === 'util'))
          return `import { ${ns} } from '@tensorflow/tfjs-core';`;
        // backend_util re-exports these two modules whole (`export * from '../ops/axis_util'`).
        if (/\/(axis_util|conv_util)$/.test(from))
          return `import { backend_util as ${ns} } from '@tensorflow/tfjs-core';`;
        return all;
      }
      const specs = named
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const pub = [];
      const priv = [];
      const fromNamespace = [];
      const base = from.split('/').at(-1);
      for (const spec of specs) {
        const [orig, alias] = spec.split(/\s+as\s+/);
        if (orig === 'ENGINE') pub.push(`engine as __engine_${alias ?? 'ENGINE'}`);
        else if (publicApi.has(orig)) pub.push(spec);
        else {
          // A helper of a module tfjs exports as a namespace (util, slice_util) or re-exports through
          // backend_util (axis_util, conv_util).
          const ns = [base, 'backend_util'].find((n) => publicApi.has(n) && orig in tf[n]);
          if (ns !== undefined) fromNamespace.push({ ns, orig, local: alias ?? orig });
          else priv.push(spec);
        }
      }
      const lines = [];
      for (const ns of new Set(fromNamespace.map((x) => x.ns)))
        lines.push(`import { ${ns} as __ns_${ns} } from '@tensorflow/tfjs-core';`);
      for (const { ns, orig, local } of fromNamespace) lines.push(`const ${local} = __ns_${ns}.${orig};`);
      if (pub.length > 0) lines.push(`import { ${pub.join(', ')} } from '@tensorflow/tfjs-core';`);
      if (priv.length > 0) lines.push(`import { ${priv.join(', ')} } from '${from}';`);
      for (const spec of specs) {
        const [orig, alias] = spec.split(/\s+as\s+/);
        // The engine is a process-wide singleton; tfjs-core's public `engine()` returns it.
        if (orig === 'ENGINE') lines.push(`const ${alias ?? 'ENGINE'} = __engine_${alias ?? 'ENGINE'}();`);
      }
      if (priv.length > 0 && FORBIDDEN.test(join(dirname(file), from) + '.js'))
        throw new Error(`${relative(dist, file)} imports private ${priv.join(', ')} from ${from}`);
      return lines.join('\n');
    },
  );
}

const result = await build({
  stdin: { contents: entrySource, resolveDir: dist, sourcefile: 'register_all_gradients.js' },
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  target: 'es2022',
  write: false,
  metafile: true,
  legalComments: 'none',
  external: ['@tensorflow/tfjs-core'],
  plugins: [
    {
      name: 'tfjs-public-api',
      setup(b) {
        b.onResolve({ filter: /^\./ }, (args) => {
          const base = join(args.resolveDir, args.path);
          return { path: base.endsWith('.js') ? base : `${base}.js` };
        });
        b.onLoad({ filter: /\.js$/ }, (args) => {
          const shim = SHIMS[relative(dist, args.path)];
          if (shim !== undefined) return { contents: shim, loader: 'js' };
          if (FORBIDDEN.test(args.path))
            throw new Error(`would inline a private copy of ${relative(dist, args.path)}`);
          return { contents: rewriteImports(readFileSync(args.path, 'utf8'), args.path), loader: 'js' };
        });
      },
    },
  ],
});
const inlined = Object.keys(result.metafile.inputs).filter((p) => !p.includes('/gradients/'));
const header = `// GENERATED by scripts/generate-tfjs-gradients.mjs from @tensorflow/tfjs-core ${version}
// (dist/gradients/*_grad.js, Apache-2.0, Copyright Google LLC). Do not edit; re-run the script.
// ${entry.length} gradient configs; private tfjs helpers inlined: ${inlined.map((p) => relative(dist, p)).join(', ') || 'none'}.
/* eslint-disable */
// @ts-nocheck
`;
const out = join(here, '..', 'src', 'internal', 'tfjs-gradients.generated.ts');
const code = result.outputFiles[0].text.replace(
  'var TFJS_GRADIENT_CONFIGS = [',
  'var TFJS_GRADIENT_CONFIGS: unknown[] = [',
);
if (!code.includes('TFJS_GRADIENT_CONFIGS: unknown[]'))
  throw new Error('the gradient list was not found in the output');
writeFileSync(out, header + code);
// The repo's formatter, so that `prettier --check .` passes on the committed output.
execFileSync(process.execPath, [require.resolve('prettier/bin/prettier.cjs'), '--write', out], {
  stdio: 'ignore',
});
console.log(
  `wrote ${relative(process.cwd(), out)}: ${entry.length} gradients, ${(result.outputFiles[0].text.length / 1024).toFixed(1)} kB, inlined ${inlined.length} private modules`,
);
