/**
 * `npm run bench:http`: POST /v1/remediate against a real `kubemend serve` process (offline
 * incidents, SQLite sessions and audit).
 *
 * 1. Sustained load: 50, 100 and 200 keep-alive clients sending back to back for BENCH_SECONDS
 *    (autocannon): requests/s, p50/p99 latency, errors and client time-outs (10 s).
 * 2. Bursts: 100, 200 and 500 requests sent at the same instant, each on a new connection (the
 *    way CI jobs and controllers call): time until the last answer, p50/max latency, non-2xx.
 *
 * Writes bench/results/http-latest.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'node:http';
import autocannon from 'autocannon';
import { hashToken } from '../src/auth/authenticator.js';

const TOKEN = 'bench-token-0123456789abcdef';
const directory = mkdtempSync(join(tmpdir(), 'kubemend-http-bench-'));
const config = join(directory, 'kubemend.yaml');
writeFileSync(
  config,
  // One token sends everything: its rate limits are off (they would measure the limiter instead).
  `server:\n  maxInFlight: 1000\n  rateLimits:\n    analyses: { perMinute: 0 }\nauth:\n  tokens:\n    - name: bench\n      sha256: ${hashToken(TOKEN)}\n      scopes: [remediate:analyze]\n`,
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
  const bursts = [];
  for (const size of [100, 200, 500]) {
    const row = await burst(size);
    bursts.push(row);
    console.log(
      `burst of ${size} on new connections: last answer after ${row.wallMs} ms, p50 ${row.latencyP50Ms} ms, max ${row.latencyMaxMs} ms, non-2xx ${row.non2xx}`,
    );
    await sleep(500);
  }
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/http-latest.json',
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, durationSeconds: duration, rows, bursts }, null, 2)}\n`,
  );
} finally {
  server.kill('SIGTERM');
}

/** `size` POST requests started together, each on its own connection (no keep-alive). */
async function burst(size: number) {
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const send = () =>
    new Promise<{ status: number; ms: number }>((resolve, reject) => {
      const started = performance.now();
      const outgoing = request(
        {
          host: '127.0.0.1',
          port,
          path: '/v1/remediate',
          method: 'POST',
          agent,
          headers: {
            authorization: `Bearer ${TOKEN}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (response) => {
          response.resume();
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, ms: performance.now() - started }),
          );
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: size }, send));
  const wallMs = Math.round(performance.now() - started);
  const latencies = results.map((result) => result.ms).sort((a, b) => a - b);
  return {
    size,
    wallMs,
    latencyP50Ms: Math.round(latencies[Math.floor(latencies.length / 2)] ?? 0),
    latencyMaxMs: Math.round(latencies.at(-1) ?? 0),
    non2xx: results.filter((result) => result.status < 200 || result.status > 299).length,
  };
}
