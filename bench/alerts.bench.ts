/**
 * `npm run bench:alerts [-- --rate 100 --seconds 30 --repeats 0.3]`: the Alertmanager receiver
 * under an open loop against a real `kubemend serve` (offline; SQLite sessions, audit, incidents
 * and outbox in a fresh temporary file, the SQLite writer thread). Delivery i is sent at
 * start + i/rate whether or not earlier ones were answered, and its time to 202 is measured from
 * that scheduled instant (no coordinated omission). A share of deliveries (`--repeats`) repeat an
 * earlier alert's fingerprint, as Alertmanager's repeat notifications and retries do. A refused
 * delivery (429/503) is retried after its Retry-After, as Alertmanager would; the time counted is
 * to the first 202. At the end, after the background analyses drained, the database is read:
 *
 *   lost       distinct fingerprints sent whose incident is not recorded (must be 0)
 *   sessions   sessions opened by alerts, against distinct fingerprints (must be equal)
 *   counted    firing notifications counted on incidents, against 202s (must be equal)
 *
 * Target: p99 time to 202 under 50 ms at 100 alerts/s for 30 s. Writes bench/results/alerts-latest.json.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { hashToken } from '../src/auth/authenticator.js';
import { webhookPayload } from '../test/alerts/support.js';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '100' },
    seconds: { type: 'string', default: process.env.BENCH_SECONDS ?? '30' },
    repeats: { type: 'string', default: '0.3' },
  },
});
const rate = Number(args.rate);
const seconds = Number(args.seconds);
const repeatShare = Number(args.repeats);
const TOKEN = 'bench-token-0123456789abcdef';
const directory = mkdtempSync(join(tmpdir(), 'kubemend-alerts-bench-'));
const database = join(directory, 'kubemend.db');
const config = join(directory, 'kubemend.yaml');
writeFileSync(
  config,
  JSON.stringify({
    server: {
      maxInFlight: 10_000,
      asyncQueue: { concurrency: 4, capacity: 10_000, perCaller: 10_000 },
    },
    auth: { tokens: [{ name: 'alertmanager', sha256: hashToken(TOKEN), scopes: ['remediate:analyze'] }] },
    alerts: { default: { mode: 'manual' } },
  }),
);
const port = 18_900 + Math.floor(Math.random() * 500);
const server = spawn(
  process.execPath,
  ['dist/bundle/kubemend.js', 'serve', '--port', String(port), '--config', config, '--offline'],
  {
    env: { ...process.env, KUBEMEND_DB_PATH: database, KUBEMEND_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  },
);

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

function post(body: string): Promise<{ status: number; retryAfter: number }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/v1/alerts/alertmanager',
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
          resolve({
            status: response.statusCode ?? 0,
            retryAfter: Number(response.headers['retry-after'] ?? 1),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** CPU seconds the server process used so far (Linux /proc; utime + stime of all threads). */
function serverCpuSeconds(): number {
  const path = `/proc/${server.pid}/stat`;
  if (!existsSync(path)) return 0;
  const fields = readFileSync(path, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

function alertOf(fingerprint: string, n: number) {
  return {
    fingerprint,
    labels: {
      alertname: 'KubePodCrashLooping',
      namespace: `team-${n % 20}`,
      pod: `web-${n}`,
      container: 'app',
      severity: 'warning',
    },
    annotations: {
      summary: 'Pod is crash looping.',
      description: `Pod web-${n} is in waiting state (CrashLoopBackOff).`,
    },
  };
}

try {
  for (let i = 0; i < 300; i++) {
    if ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok) break;
    await sleep(100);
  }
  console.log(
    `load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  // Warm-up (not measured): a few distinct alerts.
  for (let i = 0; i < 20; i++) await post(JSON.stringify(webhookPayload([alertOf(`ffff${i}`, i)])));

  const total = Math.round(rate * seconds);
  const sent = new Set<string>();
  const latencies: number[] = [];
  const timeline: Array<[number, number]> = [];
  let refused = 0;
  let failed = 0;
  let accepted = 0;
  const cpuBefore = serverCpuSeconds();
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const scheduled = started + (i * 1000) / rate;
    const wait = scheduled - performance.now();
    if (wait > 1) await sleep(wait);
    const repeat = sent.size > 0 && Math.random() < repeatShare;
    const n = repeat ? Math.floor(Math.random() * sent.size) : sent.size;
    const fingerprint = `a${n.toString(16).padStart(15, '0')}`;
    sent.add(fingerprint);
    const body = JSON.stringify(webhookPayload([alertOf(fingerprint, n)]));
    inFlight.push(
      (async () => {
        let first = true;
        for (;;) {
          const answer = await post(body).catch(() => ({ status: 0, retryAfter: 1 }));
          if (answer.status === 202) {
            if (first) {
              latencies.push(performance.now() - scheduled);
              if (process.env.BENCH_TRACE)
                timeline.push([scheduled - started, performance.now() - scheduled]);
            }
            accepted++;
            return;
          }
          if (answer.status === 429 || answer.status === 503 || answer.status === 0) {
            if (first) latencies.push(performance.now() - scheduled);
            first = false;
            refused++;
            await sleep(answer.retryAfter * 1000);
            continue;
          }
          failed++;
          return;
        }
      })(),
    );
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - started) / 1000;
  const cpuDuring = serverCpuSeconds() - cpuBefore;
  latencies.sort((a, b) => a - b);
  if (process.env.BENCH_TRACE)
    for (const [at, ms] of timeline.filter(([, ms]) => ms > 50))
      console.log(`slow: at ${at.toFixed(0)} ms: ${ms.toFixed(1)} ms`);

  // Let the background analyses drain, then read the database.
  const db = new Database(database, { readonly: true });
  const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  for (let i = 0; i < 600; i++) {
    if (count(`SELECT count(*) AS n FROM sessions WHERE phase <> 'done'`) === 0) break;
    await sleep(100);
  }
  const fingerprints = [...sent];
  const recorded = new Set(
    (
      db.prepare(`SELECT fingerprint FROM alert_incidents WHERE fingerprint LIKE 'a%'`).all() as {
        fingerprint: string;
      }[]
    ).map((r) => r.fingerprint),
  );
  const sessions = count(
    `SELECT count(DISTINCT session_id) AS n FROM alert_incidents WHERE fingerprint LIKE 'a%'`,
  );
  const allSessions = count(`SELECT count(*) AS n FROM sessions`);
  const counted = count(
    `SELECT coalesce(sum(notifications), 0) AS n FROM alert_incidents WHERE fingerprint LIKE 'a%'`,
  );
  const unfinished = count(`SELECT count(*) AS n FROM sessions WHERE phase <> 'done'`);
  db.close();
  const result = {
    rate,
    seconds,
    deliveries: total,
    achievedRate: total / elapsed,
    accepted,
    refusedThenRetried: refused,
    failed,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.at(-1) ?? 0,
    distinctFingerprints: fingerprints.length,
    sessionsForFingerprints: sessions,
    sessionsInDatabase: allSessions,
    countedNotifications: counted,
    lost: fingerprints.filter((f) => !recorded.has(f)).length,
    unfinishedSessions: unfinished,
    /** CPU the server used while the deliveries were sent, as a share of one core. */
    serverCpuShare: cpuDuring / elapsed,
  };
  console.log(
    `${total} deliveries at ${result.achievedRate.toFixed(1)}/s (${repeatShare * 100}% repeats): time to 202 p50 ${result.p50Ms.toFixed(1)} ms, p99 ${result.p99Ms.toFixed(1)} ms, max ${result.maxMs.toFixed(1)} ms; ` +
      `${accepted} accepted, ${refused} refused then retried, ${failed} failed; ${fingerprints.length} distinct fingerprints → ${sessions} sessions ` +
      `(${allSessions} in the database incl. 20 warm-up), ${counted} notifications counted, lost ${result.lost}, unfinished ${unfinished}`,
  );
  console.log(
    `load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const ok = result.lost === 0 && sessions === fingerprints.length && counted === accepted && failed === 0;
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/alerts-latest.json',
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, loadavg: loadavg(), ...result, ok }, null, 2)}\n`,
  );
  if (!ok) process.exitCode = 1;
} finally {
  agent.destroy();
  server.kill('SIGTERM');
}
