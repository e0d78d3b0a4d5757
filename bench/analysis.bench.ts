/**
 * `npm run bench`: analysis speed and memory.
 *  1. Per-incident analysis time over the corpus (in process, warm): p50/p99. Target p99 < 20 ms.
 *  2. Whole pipeline (streaming parse → log summary → rules → plan) for contexts with 10, 10,000
 *     and 1,000,000 log lines of ~100 characters, each in a fresh process: wall time and peak RSS.
 *     Target: 1,000,000 lines in < 2 s with < 200 MB RSS.
 * Results are printed and written to bench/results/analysis-latest.json.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, writeSync, closeSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfiguration } from '../src/config/configuration.js';
import { loadPolicies } from '../src/config/policies.js';
import { RemediationService } from '../src/service/remediation-service.js';
import { loadIncidents } from '../test/support/incidents.js';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

// 1. Per-incident time.
const service = new RemediationService({
  configuration: loadConfiguration({ env: {} }),
  policies: loadPolicies(undefined),
});
const incidents = loadIncidents('test/corpus');
for (const incident of incidents) await service.remediate(incident.input); // warm-up
const times: number[] = [];
for (let round = 0; round < 20; round++) {
  for (const incident of incidents) {
    const started = performance.now();
    await service.remediate(incident.input);
    times.push(performance.now() - started);
  }
}
const perIncident = {
  incidents: incidents.length,
  runs: times.length,
  p50Ms: percentile(times, 50),
  p99Ms: percentile(times, 99),
  maxMs: Math.max(...times),
};
console.log(
  `per incident (${perIncident.runs} runs over ${perIncident.incidents} incidents): p50 ${perIncident.p50Ms.toFixed(2)} ms, p99 ${perIncident.p99Ms.toFixed(2)} ms, max ${perIncident.maxMs.toFixed(2)} ms`,
);

// 2. Whole pipeline with large logs, one fresh process each.
execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
const directory = mkdtempSync(join(tmpdir(), 'kubemend-bench-'));
const base = JSON.parse(readFileSync('examples/oom-killed.json', 'utf8')) as {
  issue: string;
  context?: Record<string, unknown>;
};

function writeIncident(lines: number): string {
  const path = join(directory, `logs-${lines}.json`);
  const fd = openSync(path, 'w');
  const context = { ...base.context, logs: undefined };
  const head = JSON.stringify({ issue: base.issue, context }).replace(/,?"logs":null|"logs":undefined/, '');
  writeSync(fd, `${head.slice(0, -2)},"logs":[`);
  let buffer = '';
  for (let i = 0; i < lines; i++) {
    const line =
      i === lines - 1
        ? 'level=fatal msg="worker exiting" err="cache warmup failed: allocation of 64MiB buffer failed"'
        : `2026-11-25T10:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.${String(i % 1000).padStart(3, '0')}Z INFO http request method=GET path=/api/v1/items/${i % 9973} status=200 ms=${i % 97}`;
    buffer += (i === 0 ? '' : ',') + JSON.stringify(line);
    if (buffer.length > 1 << 20) {
      writeSync(fd, buffer);
      buffer = '';
    }
  }
  writeSync(fd, `${buffer}]}}`);
  closeSync(fd);
  return path;
}

const pipeline: Array<Record<string, unknown>> = [];
for (const lines of [10, 10_000, 1_000_000]) {
  const path = writeIncident(lines);
  const runs: Array<{ ms: number; maxRssMb: number; wallMs: number }> = [];
  for (let run = 0; run < 3; run++) {
    const started = performance.now();
    const child = spawnSync(process.execPath, ['bench/child-analyze.mjs', path], { encoding: 'utf8' });
    const wallMs = performance.now() - started;
    if (child.status !== 0) throw new Error(child.stderr);
    runs.push({ ...(JSON.parse(child.stdout) as { ms: number; maxRssMb: number }), wallMs });
  }
  const median = (key: 'ms' | 'maxRssMb' | 'wallMs') =>
    percentile(
      runs.map((r) => r[key]),
      50,
    );
  const row = {
    lines,
    analysisMs: median('ms'),
    processWallMs: median('wallMs'),
    peakRssMb: median('maxRssMb'),
  };
  pipeline.push(row);
  console.log(
    `${String(lines).padStart(9)} log lines: pipeline ${row.analysisMs.toFixed(0)} ms (process wall ${row.processWallMs.toFixed(0)} ms), peak RSS ${row.peakRssMb.toFixed(0)} MB`,
  );
}

mkdirSync('bench/results', { recursive: true });
writeFileSync(
  'bench/results/analysis-latest.json',
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, perIncident, pipeline }, null, 2)}\n`,
);
