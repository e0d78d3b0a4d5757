/**
 * `npm run bench:watch` (needs the control plane and the simulator: `npm run cluster:up`, or
 * `scripts/cluster/with-cluster.sh npm run bench:watch`): detection latency of `kubemend watch`.
 *
 * kubemend (the composition root production uses, SQLite storage, debounce 1 s) watches a fresh
 * namespace; 20 workloads are broken one after another (BENCH_SPACING_MS apart, default 1500):
 * half with an image that does not exist (ErrImagePull), half with an image that exits at start
 * (CrashLoop). For each: latency = the session's `createdAt` − the moment an independent observer
 * (its own informer on the namespace's pods) first saw the failure signal reach the API server.
 * Also reported: latency from the status timestamp kubemend recorded as the signal's time (those
 * timestamps have one-second resolution). Prints median and p99; writes
 * bench/results/watch-latest.json.
 *
 * Env: BENCH_BREAKAGES (default 20), BENCH_SPACING_MS (default 1500), BENCH_DEBOUNCE (default 1s).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { requireCluster, uniqueName } from '../test/cluster/cluster-harness.js';
import {
  breakWorkload,
  createNamespace,
  deleteNamespace,
  percentile,
  startWatchRun,
  watchSessions,
} from '../test/watch/watch-harness.js';

const breakages = Number(process.env.BENCH_BREAKAGES ?? 20);
const spacingMs = Number(process.env.BENCH_SPACING_MS ?? 1500);
const debounce = process.env.BENCH_DEBOUNCE ?? '1s';

await requireCluster();
const namespace = uniqueName('bench-watch');
createNamespace(namespace);
const run = await startWatchRun(namespace, { debounce });
const load = loadavg()[0];
try {
  const names: string[] = [];
  for (let index = 0; index < breakages; index++) {
    const name = `broken-${String(index).padStart(2, '0')}`;
    names.push(name);
    await breakWorkload(name, namespace, index % 2 === 0 ? 'image' : 'crash');
    await sleep(spacingMs);
  }
  const deadline = Date.now() + 180_000;
  let sessions = await watchSessions(run.app);
  while (names.some((name) => !sessions.has(name))) {
    if (Date.now() > deadline)
      throw new Error(
        `no session within 180 s for ${names.filter((name) => !sessions.has(name)).join(', ')}`,
      );
    await sleep(200);
    sessions = await watchSessions(run.app);
  }
  const rows = [];
  for (const name of names) {
    const ids = sessions.get(name)!;
    const session = await run.app.sessions.get(ids[0]!);
    const created = Date.parse(session!.createdAt);
    const observed = run.firstSignal.get(name);
    const incident = run.incidents.find((opened) => opened.key.name === name && opened.created);
    rows.push({
      name,
      signal: incident?.key.signal,
      sessions: ids.length,
      latencyMs: observed === undefined ? Number.NaN : created - observed,
      fromStatusTimestampMs: incident ? created - incident.signalAt : Number.NaN,
    });
  }
  const latencies = rows.map((row) => row.latencyMs).sort((a, b) => a - b);
  const fromStatus = rows.map((row) => row.fromStatusTimestampMs).sort((a, b) => a - b);
  const summary = {
    breakages,
    debounce,
    spacingMs,
    loadAverage1m: load,
    medianMs: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.at(-1),
    fromStatusTimestamp: { medianMs: percentile(fromStatus, 50), p99Ms: percentile(fromStatus, 99) },
    duplicates: rows.filter((row) => row.sessions !== 1).map((row) => row.name),
    watcher: { ...run.watching.watchers[0]!.stats, ...run.watching.watchers[0]!.sizes },
    rssMiB: Math.round(process.memoryUsage().rss / 1024 / 1024),
  };
  for (const row of rows)
    console.log(
      `${row.name}  ${String(row.signal).padEnd(10)} session after ${row.latencyMs} ms (status timestamp +${row.fromStatusTimestampMs} ms)`,
    );
  console.log(
    `watch detection over ${breakages} breakages: median ${summary.medianMs} ms, p99 ${summary.p99Ms} ms, max ${summary.maxMs} ms ` +
      `(debounce ${debounce}; load ${load?.toFixed(2)}); duplicates: ${summary.duplicates.length}`,
  );
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/watch-latest.json', `${JSON.stringify({ summary, rows }, null, 2)}\n`);
} finally {
  await run.stop();
  deleteNamespace(namespace);
}
