#!/usr/bin/env node
// Bundles the compiled CLI (dist/, from `tsc -p tsconfig.build.json`) into dist/bundle/: the
// entry `kubemend.js`, the two worker entries it starts by a path beside itself
// (`sqlite-writer-worker.js`, `log-summary-worker.js`) and the chunks esbuild splits off at each
// dynamic import() (the HTTP server, MCP, PostgreSQL, the AI SDKs, the cluster gateway), all in
// one flat folder so a worker URL resolved from any chunk lands beside it. Why: a one-shot CLI run
// spent most of its time resolving and compiling ~1,450 module files (828 of them
// @kubernetes/client-node's generated models); ADR 0041 has the figures.
//
// better-sqlite3 (a native addon) and pg-native (optional, absent) stay outside the bundle and
// load from node_modules. Usage: node scripts/bundle.mjs [--dist DIR] (default: the repository's
// dist/; npm run build runs it after tsc, scripts/package-runtime.mjs on the runtime tree's dist).
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const at = process.argv.indexOf('--dist');
const DIST = at > 0 && process.argv[at + 1] ? resolve(process.argv[at + 1]) : join(ROOT, 'dist');
const OUT = join(DIST, 'bundle');

rmSync(OUT, { recursive: true, force: true });
/**
 * kubemend uses one thing from @kubernetes/client-node: `KubeConfig` (kubeconfig loading and
 * authentication, ADR 0009). The package's index, and `config.js` itself through `./gen/index.js`,
 * import the whole generated API client (~830 modules, ~600 KB bundled) for `makeApiClient`,
 * which kubemend never calls. This plugin gives both imports just what is used: the index becomes
 * `KubeConfig`, and config.js's `./gen/index.js` becomes the two names it imports from it. If our
 * code ever imports another name from the package, the build fails ("No matching export").
 */
const clientNodeKubeConfigOnly = {
  name: 'client-node-kubeconfig-only',
  setup(builder) {
    const dist = join(ROOT, 'node_modules', '@kubernetes', 'client-node', 'dist');
    builder.onResolve({ filter: /^@kubernetes\/client-node$/ }, () => ({
      path: 'index',
      namespace: 'client-node',
    }));
    builder.onResolve({ filter: /^\.\/gen\/index\.js$/ }, (args) =>
      args.importer === join(dist, 'config.js') ? { path: 'gen', namespace: 'client-node' } : undefined,
    );
    builder.onLoad({ filter: /.*/, namespace: 'client-node' }, (args) => ({
      resolveDir: dist,
      loader: 'js',
      contents:
        args.path === 'index'
          ? "export { KubeConfig } from './config.js';"
          : "export { createConfiguration } from './gen/configuration.js'; export { ServerConfiguration } from './gen/servers.js';",
    }));
  },
};

const result = await build({
  absWorkingDir: ROOT,
  entryPoints: {
    kubemend: join(DIST, 'interfaces/cli/main.js'),
    'sqlite-writer-worker': join(DIST, 'audit/sqlite-writer-worker.js'),
    'log-summary-worker': join(DIST, 'context/log-summary-worker.js'),
  },
  outdir: OUT,
  bundle: true,
  splitting: true,
  chunkNames: '[name]-[hash]',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['better-sqlite3', 'pg-native'],
  // CommonJS dependencies inside an ES module bundle call require() for Node's built-ins.
  banner: {
    js: "import { createRequire as __kubemendCreateRequire } from 'node:module'; const require = __kubemendCreateRequire(import.meta.url);",
  },
  legalComments: 'none',
  plugins: [clientNodeKubeConfigOnly],
  logLevel: 'warning',
  metafile: process.env.KUBEMEND_BUNDLE_META !== undefined,
});
// KUBEMEND_BUNDLE_META=FILE writes esbuild's metafile (which module went into which chunk).
if (result.metafile) writeFileSync(process.env.KUBEMEND_BUNDLE_META, JSON.stringify(result.metafile));
