#!/usr/bin/env node
// `pnpm demo [name] [--out DIR] [...]`: runs demo app `apps/<name>` (default: translate, the main demo)
// from its TypeScript sources, resolving workspace packages to their sources (no build step).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MAIN_DEMO = 'translate';

const args = process.argv.slice(2);
const name = args[0] !== undefined && !args[0].startsWith('-') ? args.shift() : MAIN_DEMO;
const entry = join(root, 'apps', name, 'src', 'main.ts');
if (!existsSync(entry)) {
  const demos = readdirSync(join(root, 'apps')).filter((d) =>
    existsSync(join(root, 'apps', d, 'src', 'main.ts')),
  );
  console.error(
    `pnpm demo: no demo named '${name}' (apps/${name}/src/main.ts is missing). Demos: ${demos.join(', ')}`,
  );
  process.exit(2);
}
const result = spawnSync(process.execPath, ['--conditions=@ml/source', '--import', 'tsx', entry, ...args], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
