/**
 * `npm run bench:http [-- options]`: POST /v1/remediate against a real `kubemend serve` process
 * (SQLite sessions and audit in a fresh temporary file). Modes (default: `max` then `open`):
 *
 *   --mode max   [--connections 64] [--seconds 30]   sustained maximum: keep-alive clients sending
 *                back to back (autocannon): requests/s, p50/p99, errors.
 *   --mode open  [--rate 1000] [--seconds 30] [--sockets 2000]
 *                open loop at a fixed rate: request i is sent at start + i/rate whether or not
 *                earlier ones were answered; latency is measured from the scheduled instant (no
 *                coordinated omission): p50/p99/max, errors, achieved rate. Requests go over at most
 *                `sockets` keep-alive connections (a request waits for a free one, and the wait
 *                counts): with many, a slow moment opens hundreds of new connections, which the
 *                server accepts one per event-loop turn (docs/quality.md); a pool like a real
 *                client's (e.g. 128) measures the server instead.
 *   --mode sustained                                 50, 100, 200 clients back to back (autocannon).
 *   --mode bursts                                    100, 200, 500 requests at once, new connections.
 *   --mode floor [--connections 64] [--seconds 30]   the machine's floor: `max` against
 *                bench/floor-server.mjs instead of kubemend — the same framework and body parser,
 *                the body stored as one SQLite row, a fixed answer of kubemend's answer's size, and
 *                nothing else (no validation, analysis, plan, audit). An upper bound for kubemend.
 *   --processes N  with `max` or `floor`: N independent servers (each its own database), the
 *                connections split between them, all at once: the most any way of using more
 *                cores (worker threads, cluster workers) could add on this machine.
 *   --live       [--concurrency 200]                 live analyses against the running test control
 *                plane (scripts/cluster/with-cluster.sh), as kubemend's least-privilege identity: an
 *                OOMKilled Deployment, then `concurrency` analyses of it sent at once: all must be
 *                answered; p50/p99/max. One more answer is read whole and must be the live
 *                diagnosis (oom-killed, with evidence), or the bench fails.
 *
 * Offline modes analyse examples/oom-killed.json. Writes bench/results/http-latest.json.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { hashToken } from '../src/auth/authenticator.js';

const { values: args } = parseArgs({
  options: {
    mode: { type: 'string' },
    live: { type: 'boolean', default: false },
    rate: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: process.env.BENCH_SECONDS ?? '30' },
    connections: { type: 'string', default: '64' },
    sockets: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '200' },
    processes: { type: 'string', default: '1' },
  },
});
const seconds = Number(args.seconds);
const TOKEN = 'bench-token-0123456789abcdef';
const directory = mkdtempSync(join(tmpdir(), 'kubemend-http-bench-'));
const config = join(directory, 'kubemend.yaml');
writeFileSync(
  config,
  // One token sends everything: its rate limits are off (they would measure the limiter instead).
  `server:\n  maxInFlight: 10000\n  rateLimits:\n    analyses: { perMinute: 0 }\nauth:\n  tokens:\n    - name: bench\n      sha256: ${hashToken(TOKEN)}\n      scopes: [remediate:analyze]\n`,
);
const port = 18_400 + Math.floor(Math.random() * 500);
const url = `http://127.0.0.1:${port}/v1/remediate`;
let body = readFileSync('examples/oom-killed.json', 'utf8');

const results: Record<string, unknown> = {};
const live = args.live === true;
let kubeconfig: string | undefined;
if (live) ({ kubeconfig, body } = await liveTarget());

const floor = args.mode === 'floor';
/** The size of kubemend's answer to examples/oom-killed.json (`kubemend analyze --offline --json`). */
const ANSWER_BYTES = 3516;
const processes = Number(args.processes);
if (processes > 1 && !['max', 'floor'].includes(args.mode ?? ''))
  throw new Error('--processes needs --mode max or --mode floor');
const servers = Array.from({ length: processes }, (_, index) =>
  spawn(
    process.execPath,
    floor
      ? [
          'bench/floor-server.mjs',
          String(port + index),
          join(directory, `floor-${index}.db`),
          String(ANSWER_BYTES),
        ]
      : [
          'dist/bundle/kubemend.js',
          'serve',
          '--port',
          String(port + index),
          '--config',
          config,
          ...(live ? [] : ['--offline']),
        ],
    {
      env: {
        ...process.env,
        KUBEMEND_DB_PATH: join(directory, `kubemend-${index}.db`),
        KUBEMEND_LOG_LEVEL: 'warn',
        ...(kubeconfig ? { KUBEMEND_KUBECONFIG: kubeconfig } : {}),
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  ),
);
try {
  for (let index = 0; index < processes; index++)
    for (let i = 0; i < 200; i++) {
      if ((await fetch(`http://127.0.0.1:${port + index}/readyz`).catch(() => undefined))?.ok) break;
      await sleep(100);
    }
  console.log(
    `load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  if (live) results.live = await liveBurst(Number(args.concurrency));
  else {
    const modes = args.mode ? [args.mode] : ['max', 'open'];
    for (const mode of modes) {
      if (mode === 'max') results.max = await sustained(Number(args.connections));
      else if (mode === 'floor') results.floor = await sustained(Number(args.connections), 'floor');
      else if (mode === 'open') results.open = await openLoop(Number(args.rate), seconds);
      else if (mode === 'sustained') {
        results.sustained = [];
        for (const c of [50, 100, 200]) (results.sustained as unknown[]).push(await sustained(c));
      } else if (mode === 'bursts') {
        results.bursts = [];
        for (const size of [100, 200, 500]) {
          (results.bursts as unknown[]).push(await burst(size));
          await sleep(500);
        }
      } else throw new Error(`unknown --mode ${mode}: max, open, sustained, bursts or floor`);
    }
  }
  console.log(
    `load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/http-latest.json',
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, loadavg: loadavg(), args, ...results }, null, 2)}\n`,
  );
} finally {
  for (const server of servers) server.kill('SIGTERM');
}

/**
 * CPU time the server's threads used (Linux: /proc/<pid>/task/<tid>/stat, utime + stime): the
 * serving thread apart from the others (the SQLite writer thread, GC and libuv helpers). Per
 * request, this is what a busy shared machine distorts least.
 */
function serverCpu(): { main: number; other: number } {
  const tick = 100; // USER_HZ on Linux
  const cpu = { main: 0, other: 0 };
  for (const pid of servers.map((server) => server.pid)) {
    if (pid === undefined || !existsSync(`/proc/${pid}/task`)) continue;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / tick;
      if (Number(tid) === pid) cpu.main += ms;
      else cpu.other += ms;
    }
  }
  return cpu;
}

function cpuPerRequest(before: { main: number; other: number; client: NodeJS.CpuUsage }, requests: number) {
  const after = serverCpu();
  const client = process.cpuUsage(before.client);
  return {
    mainMs: Number(((after.main - before.main) / requests).toFixed(3)),
    otherThreadsMs: Number(((after.other - before.other) / requests).toFixed(3)),
    /** The load generator's own CPU per request (it shares the machine's cores with the server). */
    clientMs: Number(((client.user + client.system) / 1000 / requests).toFixed(3)),
  };
}

function cpuNow() {
  return { ...serverCpu(), client: process.cpuUsage() };
}

/** Keep-alive clients sending back to back for `seconds` (split between the servers). */
async function sustained(connections: number, label = 'max') {
  const cpu = cpuNow();
  const runs = await Promise.all(
    Array.from({ length: processes }, (_, index) =>
      autocannon({
        url: `http://127.0.0.1:${port + index}/v1/remediate`,
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body,
        connections: Math.max(1, Math.round(connections / processes)),
        duration: seconds,
      }),
    ),
  );
  const sum = (pick: (result: autocannon.Result) => number) =>
    runs.reduce((total, run) => total + pick(run), 0);
  const row = {
    connections,
    processes,
    requestsPerSecond: Math.round(sum((run) => run.requests.average)),
    // With several servers: the slowest server's percentiles.
    latencyP50Ms: Math.max(...runs.map((run) => run.latency.p50)),
    latencyP99Ms: Math.max(...runs.map((run) => run.latency.p99)),
    non2xx: sum((run) => run.non2xx),
    errors: sum((run) => run.errors),
    timeouts: sum((run) => run.timeouts),
    serverCpuPerRequest: cpuPerRequest(
      cpu,
      sum((run) => run.requests.total),
    ),
  };
  console.log(
    `${label}, ${connections} keep-alive clients${processes > 1 ? ` over ${processes} server processes` : ''}, ${seconds} s: ${row.requestsPerSecond} req/s, p50 ${row.latencyP50Ms} ms, p99 ${row.latencyP99Ms} ms, non-2xx ${row.non2xx}, errors ${row.errors}; server CPU per request: serving thread${processes > 1 ? 's' : ''} ${row.serverCpuPerRequest.mainMs} ms, other threads ${row.serverCpuPerRequest.otherThreadsMs} ms; load generator ${row.serverCpuPerRequest.clientMs} ms`,
  );
  return row;
}

/** One POST on `agent`; resolves with the status (0: a socket error or the 10 s time-out). */
function send(agent: Agent, payload: string): Promise<number> {
  return new Promise((resolve) => {
    const outgoing = request(
      url,
      {
        method: 'POST',
        agent,
        timeout: 10_000,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
        },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', () => resolve(0));
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error('timeout')));
    outgoing.on('error', () => resolve(0));
    outgoing.end(payload);
  });
}

function percentile(sorted: readonly number[], p: number): number {
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0);
}

/** Open loop: request i is due at start + i/rate, sent then whatever the earlier ones did. */
async function openLoop(rate: number, duration: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: Number(args.sockets) });
  const total = Math.round(rate * duration);
  const cpu = cpuNow();
  const latencies: number[] = [];
  let errors = 0;
  const inFlight: Promise<void>[] = [];
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const now = performance.now();
    const due = Math.min(total, Math.floor(((now - start) / 1000) * rate) + 1);
    for (; sent < due; sent++) {
      const scheduled = start + (sent / rate) * 1000;
      inFlight.push(
        send(agent, body).then((status) => {
          if (status < 200 || status > 299) errors++;
          latencies.push(performance.now() - scheduled);
        }),
      );
    }
    await sleep(1);
  }
  const sendingMs = performance.now() - start;
  await Promise.all(inFlight);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const row = {
    offeredPerSecond: rate,
    maxConnections: Number(args.sockets),
    seconds: duration,
    requests: total,
    achievedPerSecond: Math.round((total / sendingMs) * 1000),
    latencyP50Ms: percentile(latencies, 0.5),
    latencyP99Ms: percentile(latencies, 0.99),
    latencyMaxMs: Math.round(latencies.at(-1) ?? 0),
    errors,
    serverCpuPerRequest: cpuPerRequest(cpu, total),
  };
  console.log(
    `open loop at ${rate}/s for ${duration} s over at most ${args.sockets} connections: ${row.requests} requests (sent at ${row.achievedPerSecond}/s), p50 ${row.latencyP50Ms} ms, p99 ${row.latencyP99Ms} ms, max ${row.latencyMaxMs} ms, errors ${errors}`,
  );
  return row;
}

/** `size` POST requests started together, each on its own connection (no keep-alive). */
async function burst(size: number, payload = body) {
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const started = performance.now();
  const answers = await Promise.all(
    Array.from({ length: size }, async () => {
      const at = performance.now();
      const status = await send(agent, payload);
      return { status, ms: performance.now() - at };
    }),
  );
  const latencies = answers.map((a) => a.ms).sort((a, b) => a - b);
  const row = {
    size,
    wallMs: Math.round(performance.now() - started),
    latencyP50Ms: percentile(latencies, 0.5),
    latencyP99Ms: percentile(latencies, 0.99),
    latencyMaxMs: Math.round(latencies.at(-1) ?? 0),
    non2xx: answers.filter((a) => a.status < 200 || a.status > 299).length,
  };
  console.log(
    `${size} at once: last answer after ${row.wallMs} ms, p50 ${row.latencyP50Ms} ms, p99 ${row.latencyP99Ms} ms, max ${row.latencyMaxMs} ms, not answered 2xx ${row.non2xx}`,
  );
  return row;
}

/** Live: `concurrency` analyses of an OOMKilled Deployment in the test control plane, at once. */
async function liveBurst(concurrency: number) {
  await burst(10); // warm-up: connections to the API server, JIT
  const row = await burst(concurrency);
  // One more, read whole: the answer must come from the cluster (its live evidence), not offline.
  const answer = (await (
    await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body,
    })
  ).json()) as { analysis?: { category?: string; evidence?: unknown[] } };
  const category = answer.analysis?.category;
  const evidence = answer.analysis?.evidence?.length ?? 0;
  console.log(`a live answer: category ${category}, ${evidence} evidence lines`);
  if (category !== 'oom-killed' || evidence === 0)
    throw new Error(`the live analysis did not find the OOMKilled Deployment: ${JSON.stringify(answer)}`);
  return { ...row, category, evidence };
}

async function liveTarget(): Promise<{ kubeconfig: string; body: string }> {
  const harness = await import('../test/cluster/cluster-harness.js');
  await harness.requireCluster();
  const namespace = harness.uniqueName('bench');
  // kubemend's least-privilege identity, opted in to this namespace: the script writes a fresh
  // kubeconfig (a token and the CA of the control plane running now; one left from an earlier
  // start would fail TLS, and kubemend would answer offline — the check in liveBurst catches it).
  execFileSync('bash', ['scripts/cluster/kubemend-identity.sh', namespace], { stdio: 'ignore' });
  await harness.createOomKilled('checkout', namespace);
  return {
    kubeconfig: harness.KUBEMEND_KUBECONFIG,
    body: JSON.stringify({
      issue: 'checkout pods restart: OOMKilled',
      target: { kind: 'Deployment', namespace, name: 'checkout' },
    }),
  };
}
