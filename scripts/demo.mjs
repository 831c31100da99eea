#!/usr/bin/env node
// `pnpm demo [name] [args…]`: runs demo app `apps/<name>` (default: translate, the main demo) from its
// TypeScript sources, resolving workspace packages to their sources (no build step). Every other argument
// goes to the demo, so `pnpm demo <name> --help` prints that demo's options.
// `pnpm demo --help` lists the demos with the one-line "description" of each app's package.json.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MAIN_DEMO = 'translate';

/** Every app with a `src/main.ts`, with its package.json description, sorted by name. */
function listDemos() {
  return readdirSync(join(root, 'apps'))
    .filter((d) => existsSync(join(root, 'apps', d, 'src', 'main.ts')))
    .sort()
    .map((name) => {
      let description = '';
      try {
        const manifest = /** @type {{ description?: unknown }} */ (
          JSON.parse(readFileSync(join(root, 'apps', name, 'package.json'), 'utf8'))
        );
        if (typeof manifest.description === 'string') description = manifest.description;
      } catch {
        // no readable package.json: list the demo without a description
      }
      return { name, description };
    });
}

function printHelp() {
  const demos = listDemos();
  const width = Math.max(...demos.map((d) => d.name.length));
  const lines = [
    'Usage: pnpm demo [name] [options]',
    '',
    `Runs the demo app apps/<name> (default: ${MAIN_DEMO}). Options go to the demo;`,
    '`pnpm demo <name> --help` lists them.',
    '',
    'Demos:',
    ...demos.map(
      (d) => `  ${d.name.padEnd(width)}  ${d.description}${d.name === MAIN_DEMO ? ' (default)' : ''}`,
    ),
  ];
  console.log(lines.join('\n'));
}

const args = process.argv.slice(2);
if (args[0] === '--help' || args[0] === '-h' || args[0] === 'help') {
  printHelp();
  process.exit(0);
}
const name = args[0] !== undefined && !args[0].startsWith('-') ? args.shift() : MAIN_DEMO;
const entry = join(root, 'apps', name ?? MAIN_DEMO, 'src', 'main.ts');
if (!existsSync(entry)) {
  console.error(`pnpm demo: no demo named '${name}' (apps/${name}/src/main.ts is missing).\n`);
  printHelp();
  process.exit(2);
}
const result = spawnSync(process.execPath, ['--conditions=@ml/source', '--import', 'tsx', entry, ...args], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
