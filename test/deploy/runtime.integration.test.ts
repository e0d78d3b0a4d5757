// The runtime file set the container image holds (`npm run package:runtime`, the Dockerfile's
// build stage) starts and serves with production dependencies only:
// - the tree holds exactly dist, package.json, package-lock.json, node_modules, policies, examples;
//   no development dependency is installed, every production one is;
// - every package imported by dist/ is a declared production dependency present in the tree;
// - copied outside the repository (so no parent node_modules can help), with NODE_PATH unset and a
//   /data-like directory as the only place it may write, `kubemend serve` answers /livez, /readyz,
//   an authenticated POST /v1/remediate (offline), exposes the metrics the chart's alerts use,
//   writes nothing into its own tree; on SIGTERM it stops accepting, finishes the request in
//   flight and exits 0;
// - `kubemend analyze` summarises a large input on its worker thread from the same tree.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { request as httpRequest } from 'node:http';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/auth/authenticator.js';
import { call, startServe, type ServeProcess } from './support.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const RUNTIME = join(REPO, '.state', 'runtime');
const TOKEN = 'runtime-test-token-0123456789abcdef';

let scratch: string;
let app: string;
let data: string;
let entries: string[];

/** path → size and mtime of every file under `dir`. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) walk(child);
      else {
        const info = statSync(child, { throwIfNoEntry: false });
        out.set(relative(dir, child), info ? `${info.size}:${info.mtimeMs}` : 'link');
      }
    }
  };
  walk(dir);
  return out;
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

beforeAll(async () => {
  // The same script the Dockerfile runs (node_modules is reused when the lockfile did not change);
  // the addon this checkout compiled is reused rather than compiled again for the same Node.js.
  execFileSync(process.execPath, [join(REPO, 'scripts', 'package-runtime.mjs'), '--reuse-native'], {
    cwd: REPO,
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 1_500_000,
  });
  const script = (await import(join(REPO, 'scripts', 'package-runtime.mjs'))) as {
    RUNTIME_ENTRIES: string[];
  };
  entries = script.RUNTIME_ENTRIES;
  scratch = mkdtempSync(join(tmpdir(), 'kubemend-runtime-'));
  app = join(scratch, 'app');
  data = join(scratch, 'data');
  mkdirSync(data);
  cpSync(RUNTIME, app, { recursive: true, verbatimSymlinks: true });
}, 1_600_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('runtime package (the image contents)', () => {
  it('holds exactly the runtime file set, nothing above it can lend a module', () => {
    expect(readdirSync(app).sort()).toEqual([...entries].sort());
    expect(entries).toEqual(
      expect.arrayContaining([
        'dist',
        'package.json',
        'package-lock.json',
        'node_modules',
        'policies',
        'examples',
      ]),
    );
    for (let dir = dirname(app); dir !== dirname(dir); dir = dirname(dir)) {
      expect(existsSync(join(dir, 'node_modules')), `${dir}/node_modules`).toBe(false);
    }
    expect(
      readdirSync(join(app, 'dist'), { recursive: true }).some((f) => String(f).endsWith('.test.js')),
    ).toBe(false);
    const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(Object.keys(manifest.scripts)).toEqual(['start']);
  });

  it('installs every production package of the lockfile and no development one', () => {
    const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean; optional?: boolean; devOptional?: boolean }>;
    };
    const missing: string[] = [];
    const unwanted: string[] = [];
    for (const [path, info] of Object.entries(lock.packages)) {
      if (!path.startsWith('node_modules/')) continue;
      const present = existsSync(join(app, path, 'package.json'));
      if (info.dev && present) unwanted.push(path);
      if (!info.dev && !info.optional && !info.devOptional && !present) missing.push(path);
    }
    expect(unwanted).toEqual([]);
    expect(missing).toEqual([]);
    for (const devOnly of ['typescript', 'vitest', 'tsx', 'eslint', 'prettier', 'fast-check']) {
      expect(existsSync(join(app, 'node_modules', devOnly)), devOnly).toBe(false);
    }
  });

  it('imports from dist only declared production dependencies that are installed', () => {
    const manifest = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const builtins = new Set(builtinModules);
    const problems: string[] = [];
    const files = readdirSync(join(app, 'dist'), { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.js'));
    expect(files.length).toBeGreaterThan(50);
    for (const file of files) {
      const source = readFileSync(join(app, 'dist', file), 'utf8');
      // Static imports and re-exports (`… from 'x'`, `import 'x'`) and dynamic `import('x')`.
      const imports =
        /(?:^\s*(?:import|export)\b[^'";]*?\bfrom\s*|\bimport\s*\(\s*|^\s*import\s*)(['"])([^'"\s]+)\1/gm;
      for (const match of source.matchAll(imports)) {
        const specifier = match[2]!;
        if (specifier.startsWith('.') || specifier.startsWith('node:') || builtins.has(specifier)) continue;
        // Registered inside a worker only when running from TypeScript sources (tests, tsx): the
        // source text of an eval'd Worker, a template literal (in the compiled modules and the bundle).
        if (specifier === 'tsx/esm/api' && source[match.index - 1] === '`') continue;
        const name = packageName(specifier);
        if (!(name in manifest.dependencies))
          problems.push(`${file}: ${specifier} is not a production dependency`);
        else if (!existsSync(join(app, 'node_modules', name, 'package.json')))
          problems.push(`${file}: ${specifier} is not installed`);
      }
    }
    expect(problems).toEqual([]);
  });

  describe('kubemend serve from the tree', () => {
    let server: ServeProcess;
    let before: Map<string, string>;

    beforeAll(async () => {
      const config = join(data, 'kubemend.yaml');
      writeFileSync(
        config,
        `auth:\n  tokens:\n    - { name: ci, sha256: ${hashToken(TOKEN)}, scopes: [remediate:analyze, remediate:execute, audit:read] }\n`,
      );
      before = snapshot(app);
      server = await startServe({
        cwd: app,
        env: {
          HOME: data,
          TMPDIR: data,
          KUBEMEND_DATA_DIR: data,
          KUBEMEND_CONFIG: config,
          KUBEMEND_OFFLINE: '1',
          KUBEMEND_LOG_LEVEL: 'info',
        },
      });
    });

    afterAll(async () => {
      await server?.stop();
    });

    it('answers /livez and /readyz (storage on SQLite in the data directory)', async () => {
      expect((await call(server.base, '/livez')).status).toBe(200);
      const ready = await call(server.base, '/readyz');
      expect(ready.status, ready.text).toBe(200);
      expect(ready.body).toMatchObject({ status: 'ready', checks: { sessions: 'ok', audit: 'ok' } });
      expect(existsSync(join(data, 'kubemend.db'))).toBe(true);
    });

    it('answers an authenticated POST /v1/remediate offline and refuses an unauthenticated one', async () => {
      const incident = JSON.parse(readFileSync(join(app, 'examples', 'oom-killed.json'), 'utf8')) as unknown;
      const answer = await call(server.base, '/v1/remediate', { token: TOKEN, body: incident });
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body).toMatchObject({ analysis: { category: 'oom-killed' } });
      expect((await call(server.base, '/v1/remediate', { body: incident })).status).toBe(401);
    });

    it('exposes every metric the chart’s PrometheusRule alerts on', async () => {
      const rule = readFileSync(
        join(REPO, 'deploy', 'helm', 'kubemend', 'templates', 'prometheusrule.yaml'),
        'utf8',
      );
      const names = [...new Set([...rule.matchAll(/\b(kubemend_[a-z_]+)\{/g)].map((m) => m[1]!))];
      expect(names.length).toBeGreaterThanOrEqual(3);
      const metrics = await call(server.base, '/metrics');
      expect(metrics.status).toBe(200);
      for (const name of names) expect(metrics.text, name).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
      expect(metrics.text).toMatch(/^kubemend_audit_chain_valid 1$/m);
      expect(metrics.text).toMatch(/^kubemend_pending_approvals \d+$/m);
      expect(metrics.text).toMatch(/^kubemend_pending_approval_oldest_age_seconds [\d.]+$/m);
    });

    it('on SIGTERM: stops accepting, finishes the request in flight, exits 0, wrote nothing into its tree', async () => {
      const incident = readFileSync(join(app, 'examples', 'oom-killed.json'));
      const url = new URL('/v1/remediate', server.base);
      // A request whose body is still arriving when SIGTERM lands: in flight, not idle.
      const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
        const request = httpRequest(
          url,
          {
            method: 'POST',
            headers: {
              authorization: `Bearer ${TOKEN}`,
              'content-type': 'application/json',
              'content-length': incident.length,
            },
          },
          (response) => {
            let body = '';
            response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
            response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
          },
        );
        request.on('error', reject);
        request.write(incident.subarray(0, 100));
        setTimeout(() => {
          server.child.kill('SIGTERM');
          setTimeout(() => request.end(incident.subarray(100)), 500);
        }, 300);
      });
      const finished = await answer;
      expect(finished.status, finished.body).toBe(200);
      expect(JSON.parse(finished.body)).toMatchObject({ analysis: { category: 'oom-killed' } });
      // The listener is closed: a new connection is refused.
      await expect(fetch(`${server.base}/livez`)).rejects.toThrow();
      // One SIGTERM (as the kubelet sends): the process finishes and exits 0 by itself.
      expect(await server.exited(), server.output()).toEqual({ code: 0, signal: null });
      expect(server.output()).toContain('SIGTERM: stopping');
      expect(snapshot(app)).toEqual(before);
    });
  });

  it('summarises a large input on its worker thread (kubemend analyze --offline)', () => {
    const incident = JSON.parse(readFileSync(join(app, 'examples', 'oom-killed.json'), 'utf8')) as {
      context?: Record<string, unknown>;
    };
    const line = 'java.lang.OutOfMemoryError: Java heap space at com.acme.Cache.put(Cache.java:42) request=';
    const logs = Array.from({ length: 110_000 }, (_, i) => `${line}${i}`);
    const input = join(data, 'large.json');
    writeFileSync(input, JSON.stringify({ ...incident, context: { ...incident.context, logs } }));
    expect(statSync(input).size).toBeGreaterThan(8 * 1024 * 1024);
    const run = spawnSync(
      process.execPath,
      [join(app, 'dist/bundle/kubemend.js'), 'analyze', '--offline', '--json', '--input', input],
      {
        cwd: app,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: data, TMPDIR: data, KUBEMEND_DATA_DIR: data },
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ analysis: { category: 'oom-killed' } });
  });
});
