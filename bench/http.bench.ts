/**
 * `npm run bench:http`: POST /v1/remediate latency and throughput against a real `kubemend serve`
 * process (offline incidents, SQLite sessions and audit), at 50 and 200 concurrent clients, with
 * autocannon. Prints p50/p99 latency, requests/s and errors; writes bench/results/http-latest.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { hashToken } from '../src/auth/authenticator.js';

const TOKEN = 'bench-token-0123456789abcdef';
const directory = mkdtempSync(join(tmpdir(), 'kubemend-http-bench-'));
const config = join(directory, 'kubemend.yaml');
writeFileSync(
  config,
  `server:\n  maxInFlight: 1000\nauth:\n  tokens:\n    - name: bench\n      sha256: ${hashToken(TOKEN)}\n      scopes: [remediate:analyze]\n`,
);
const port = 18_400 + Math.floor(Math.random() * 500);
const body = readFileSync('examples/oom-killed.json', 'utf8');
const duration = Number(process.env.BENCH_SECONDS ?? 10);

const server = spawn(
  process.execPath,
  ['dist/interfaces/cli/main.js', 'serve', '--port', String(port), '--config', config, '--offline'],
  {
    env: { ...process.env, KUBEMEND_DB_PATH: join(directory, 'kubemend.db'), KUBEMEND_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  },
);
try {
  for (let i = 0; i < 100; i++) {
    if ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok) break;
    await sleep(100);
  }
  const rows = [];
  for (const connections of [50, 100, 200]) {
    const result = await autocannon({
      url: `http://127.0.0.1:${port}/v1/remediate`,
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body,
      connections,
      duration,
    });
    const row = {
      connections,
      requests: result.requests.total,
      throughputPerSecond: result.requests.average,
      latencyP50Ms: result.latency.p50,
      latencyP99Ms: result.latency.p99,
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
    };
    rows.push(row);
    console.log(
      `${connections} clients: ${row.throughputPerSecond.toFixed(0)} req/s, p50 ${row.latencyP50Ms} ms, p99 ${row.latencyP99Ms} ms, non-2xx ${row.non2xx}, errors ${row.errors} (timeouts ${row.timeouts})`,
    );
  }
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/http-latest.json',
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, durationSeconds: duration, rows }, null, 2)}\n`,
  );
} finally {
  server.kill('SIGTERM');
}
