// `pnpm demo playground` — serves the playground page (Vite dev server, TypeScript sources) and prints
// its URL; `build` writes the static site; `preview` builds and serves it. Run with --help for options.
import { parseArgs } from 'node:util';

import { build, createServer, preview, type PreviewServer, type ViteDevServer } from 'vite';

import { DEFAULT_OUT_DIR, playgroundConfig } from './config.js';

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_PORT = 5173;

const USAGE = `Usage: pnpm demo playground [command] [options]

Commands:
  (none), dev     serve the page from its sources (hot reload) and print the URL; Ctrl-C stops
  build           write the static site to apps/playground/dist (or --out DIR)
  preview         build, then serve the built site and print the URL; Ctrl-C stops

Options:
  --host HOST     address to listen on (default ${DEFAULT_HOST}; 0.0.0.0 for other machines)
  --port N        port (default ${DEFAULT_PORT}, the next free one if taken; 0 picks any free port)
  --out DIR       build output folder (default apps/playground/dist)
  --help          this text

In the page: pick a backend (webgpu, webgl, wasm, cpu or auto) and a model, press Train, type letter
names ("ei bi: si:") to see the translation, save or load a checkpoint, compare the backends.`;

class UsageError extends Error {}

function port(value: string | undefined): number {
  if (value === undefined) return DEFAULT_PORT;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new UsageError(`--port must be an integer in [0, 65535], got '${value}'`);
  return n;
}

function waitForCtrlC(server: ViteDevServer | PreviewServer): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.stdout.write('\nstopping the server\n');
      void server.close().then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

function printUrls(server: ViteDevServer | PreviewServer, what: string): void {
  const urls = server.resolvedUrls;
  const all = [...(urls?.local ?? []), ...(urls?.network ?? [])];
  if (all.length === 0) throw new Error(`the ${what} server started but reported no URL`);
  process.stdout.write(`@ml playground (${what}) at ${all.join('  ')}\nPress Ctrl-C to stop.\n`);
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const command = positionals[0] ?? 'dev';
  if (positionals.length > 1 || !['dev', 'build', 'preview'].includes(command))
    throw new UsageError(`expected one command (dev, build or preview), got '${positionals.join(' ')}'`);
  const host = values.host ?? DEFAULT_HOST;
  const listen = { host, port: port(values.port), strictPort: false };
  const outDir = values.out ?? DEFAULT_OUT_DIR;

  if (command === 'dev') {
    const server = await createServer({ ...playgroundConfig(), server: listen });
    await server.listen();
    printUrls(server, 'dev');
    await waitForCtrlC(server);
    return;
  }
  await build(playgroundConfig({ outDir }));
  process.stdout.write(`static site written to ${outDir}\n`);
  if (command === 'preview') {
    const server = await preview({ ...playgroundConfig({ outDir }), preview: listen });
    printUrls(server, 'preview');
    await waitForCtrlC(server);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`playground: ${(e as Error).message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  process.stderr.write(`playground: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
