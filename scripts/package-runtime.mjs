#!/usr/bin/env node
// Assembles the runtime file set — exactly what the container image contains under /app — into
// one directory (default .state/runtime/):
//
//   dist/               compiled from src/ afresh (no test files, no stale output, no source maps)
//   package.json        the project's, without its development scripts
//   package-lock.json
//   node_modules/       production dependencies only (`npm ci --omit=dev`)
//   policies/ examples/
//
// The Dockerfile runs this script in its build stage and copies the result, so this list is the
// one place that defines the image's contents. Usage:
//
//   npm run package:runtime [-- --out DIR] [-- --clean] [-- --reuse-native]
//
// --reuse-native (the test suite's choice) installs without install scripts and copies the
// better-sqlite3 addon this checkout already compiled for the same Node.js and lockfile, instead of
// compiling it again (minutes on 2 cores); the image build compiles it.
//
// node_modules is reinstalled only when package-lock.json changed since the last run (or with
// --clean); `npm ci` compiles better-sqlite3 when no prebuilt binary can be downloaded.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Top-level entries of the runtime tree; the test checks the tree holds exactly these. */
export const RUNTIME_ENTRIES = [
  'dist',
  'examples',
  'node_modules',
  'package-lock.json',
  'package.json',
  'policies',
];
/** Copied verbatim from the repository. */
const COPIED = ['examples', 'policies', 'package-lock.json'];
/**
 * Compiler output a source build of better-sqlite3 leaves behind (object files, the static SQLite
 * library, its C sources): ~27 MB the runtime never loads. What remains equals a prebuilt install.
 */
function pruneNativeBuild(out) {
  const addon = join(out, 'node_modules', 'better-sqlite3');
  for (const entry of ['deps', 'src']) rmSync(join(addon, entry), { recursive: true, force: true });
  const build = join(addon, 'build');
  if (!existsSync(build)) return;
  for (const entry of readdirSync(build))
    if (entry !== 'Release') rmSync(join(build, entry), { recursive: true, force: true });
  for (const entry of readdirSync(join(build, 'Release')))
    if (entry !== 'better_sqlite3.node')
      rmSync(join(build, 'Release', entry), { recursive: true, force: true });
}

/** Marks which lockfile node_modules was installed from. */
const LOCK_STAMP = join('node_modules', '.kubemend-lock-sha256');

function parseArgs(argv) {
  const args = { out: join(ROOT, '.state', 'runtime'), clean: false, reuseNative: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') args.out = resolve(argv[++i] ?? '');
    else if (argv[i] === '--clean') args.clean = true;
    else if (argv[i] === '--reuse-native') args.reuseNative = true;
    else throw new Error(`unknown argument ${argv[i]} (expected --out DIR, --clean, --reuse-native)`);
  }
  return args;
}

function log(message) {
  process.stderr.write(`[package:runtime] ${message}\n`);
}

function run(command, args, cwd) {
  execFileSync(command, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'] });
}

function sha256(path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The package manifest without development scripts: `npm ci` must not run `prepare` (tsc). */
function runtimeManifest() {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  // devDependencies stay: `npm ci` checks the manifest against the lockfile; --omit=dev skips them.
  manifest.scripts = { start: 'node dist/bundle/kubemend.js serve' };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

function sizeOf(dir) {
  let bytes = 0;
  let files = 0;
  const walk = (path) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) {
        bytes += statSync(child).size;
        files++;
      }
    }
  };
  walk(dir);
  return { bytes, files };
}

function main() {
  const { out, clean, reuseNative } = parseArgs(process.argv.slice(2));
  if (relative(out, ROOT) === '' || !relative(out, ROOT).startsWith('..')) {
    throw new Error(`--out ${out} must not be the repository or contain it`);
  }
  mkdirSync(out, { recursive: true });
  const lockHash = sha256(join(ROOT, 'package-lock.json'));
  const stamp = join(out, LOCK_STAMP);
  const reuseModules = !clean && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === lockHash;

  // Everything but a reusable node_modules goes: nothing stale survives.
  for (const entry of readdirSync(out)) {
    if (entry === 'node_modules' && reuseModules) continue;
    rmSync(join(out, entry), { recursive: true, force: true });
  }

  log(`compiling src/ into ${relative(ROOT, join(out, 'dist')) || join(out, 'dist')}`);
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  run(
    process.execPath,
    [tsc, '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(out, 'dist'), '--sourceMap', 'false'],
    ROOT,
  );
  log('bundling the CLI into dist/bundle (scripts/bundle.mjs)');
  run(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs'), '--dist', join(out, 'dist')], ROOT);

  for (const entry of COPIED) cpSync(join(ROOT, entry), join(out, entry), { recursive: true });
  writeFileSync(join(out, 'package.json'), runtimeManifest());

  if (reuseModules) log('node_modules: package-lock.json unchanged, production dependencies kept');
  else {
    const addon = join('node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
    if (reuseNative && existsSync(join(ROOT, addon))) {
      log('node_modules: npm ci --omit=dev --ignore-scripts, reusing the compiled better-sqlite3 addon');
      run(
        'npm',
        ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'],
        out,
      );
      mkdirSync(dirname(join(out, addon)), { recursive: true });
      cpSync(join(ROOT, addon), join(out, addon));
    } else {
      log('node_modules: npm ci --omit=dev (compiles better-sqlite3 when no prebuilt binary is reachable)');
      run('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund', '--loglevel=error'], out);
    }
    writeFileSync(stamp, `${lockHash}\n`);
  }
  pruneNativeBuild(out);

  const entries = readdirSync(out).sort();
  if (JSON.stringify(entries) !== JSON.stringify([...RUNTIME_ENTRIES].sort())) {
    throw new Error(`the runtime tree holds ${entries.join(', ')}; expected ${RUNTIME_ENTRIES.join(', ')}`);
  }
  const { bytes, files } = sizeOf(out);
  log(`${out}: ${files} files, ${(bytes / 1024 / 1024).toFixed(1)} MiB`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    main();
  } catch (error) {
    process.stderr.write(`[package:runtime] ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
