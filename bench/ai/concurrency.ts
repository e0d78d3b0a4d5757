/**
 * `npx tsx bench/ai/concurrency.ts [--analyses 100] [--latency 2000] [--protocol anthropic|openai]`
 *
 * 100 concurrent analyses against the loopback fixture server, which answers every model call after
 * a fixed 2 s (one investigation step with a read-only tool, then the answer: two calls each),
 * through the real SDK path, one shared analyzer (one circuit breaker). Inputs cycle through the
 * incident corpus. Targets: zero errors, p99 wall time < 10 s, kubemend's own overhead per analysis
 * (wall time minus model time) p99 < 50 ms. Exit code 1 when a target is missed.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { analyzeWithRules, evaluateRules } from '../../src/analysis/engine.js';
import { createAiAnalyzer } from '../../src/analysis/ai/analyzer.js';
import { aiBudgetFrom } from '../../src/analysis/ai/budget.js';
import { loadConfiguration } from '../../src/config/configuration.js';
import { contextFromInput } from '../../src/context/normalize.js';
import { loadIncidents } from '../../test/support/incidents.js';
import { fakeCluster } from '../../test/ai/support.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: string): string => {
  const index = args.indexOf(name);
  return index >= 0 ? (args[index + 1] ?? fallback) : fallback;
};
const analyses = Number(option('--analyses', '100'));
const latencyMs = Number(option('--latency', '2000'));
const protocol = option('--protocol', 'anthropic') as 'anthropic' | 'openai';

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

// The fake provider runs on its own thread (tsx's loader registered there first), so that its
// work — parsing every request, scripting replies — is not counted as kubemend's.
const entry = new URL('./fixture-worker.ts', import.meta.url);
const worker = new Worker(
  `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`,
  { eval: true, workerData: { latencyMs } },
);
const ask = <T>(message: { type: string }): Promise<T> =>
  new Promise((resolve) => {
    worker.once('message', resolve);
    worker.postMessage(message);
  });
const { url } = await new Promise<{ url: string }>((resolve, reject) => {
  worker.once('message', resolve);
  worker.once('error', reject);
});
const settings = loadConfiguration({
  env: {
    KUBEMEND_AI_PROVIDER: protocol,
    KUBEMEND_AI_MODEL: 'loopback-fixed-latency',
    ANTHROPIC_API_KEY: 'loopback',
    ANTHROPIC_BASE_URL: url,
    OPENAI_API_KEY: 'loopback',
    OPENAI_BASE_URL: `${url}/v1`,
  },
}).ai;
const analyzer = createAiAnalyzer(settings)!;
const budget = aiBudgetFrom(settings);
const incidents = loadIncidents('test/corpus');
const cluster = fakeCluster();

// Prepare the requests first: the rules are not what is measured here.
const requests = Array.from({ length: analyses }, (_, index) => {
  const incident = incidents[index % incidents.length]!;
  const context = contextFromInput(incident.input);
  const rules = analyzeWithRules(context);
  return { context, ruleFindings: evaluateRules(rules.facts), budget, cluster };
});

// Warm up the code paths (JIT, TLS-free loopback sockets) outside the measurement.
await analyzer.analyze({ ...requests[0]!, budget: { ...budget, timeoutMs: latencyMs * 3 + 2_000 } });
const before = (await ask<{ count: number }>({ type: 'count' })).count;

const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
const started = performance.now();
const results = await Promise.all(
  requests.map(async (request) => {
    const begin = performance.now();
    const outcome = await analyzer.analyze(request);
    return { outcome, wallMs: performance.now() - begin };
  }),
);
const totalMs = performance.now() - started;
loop.disable();
const providerRequests = (await ask<{ count: number }>({ type: 'count' })).count - before;
worker.postMessage({ type: 'close' });

const errors = results.filter((result) => !result.outcome.ok);
const wall = results.map((result) => result.wallMs);
const calls = results.map((result) => result.outcome.usage.steps);
// Our own time: everything but waiting for the provider (prompt building, redaction, SDK request
// building and parsing are inside model time; tool reads here are in-memory).
const overhead = results.map((result) => result.wallMs - result.outcome.usage.modelMs);
// Everything that is not the model's fixed think time: our code, the SDK, loopback HTTP, and the
// queueing of 100 requests that all start (and all get their answers) at the same instant.
const beyondModel = results.map((result) => result.wallMs - result.outcome.usage.steps * latencyMs);

const line = (label: string, values: readonly number[], digits = 1): string =>
  `${label}: p50 ${percentile(values, 50).toFixed(digits)} ms, p95 ${percentile(values, 95).toFixed(digits)} ms, p99 ${percentile(values, 99).toFixed(digits)} ms, max ${Math.max(...values).toFixed(digits)} ms`;

console.log(
  `${analyses} concurrent analyses, ${protocol} wire protocol, provider latency ${latencyMs} ms per call, ${percentile(calls, 50)} model calls each`,
);
console.log(
  `  errors: ${errors.length}${
    errors.length
      ? ` (${errors
          .slice(0, 3)
          .map((result) => (result.outcome.ok ? '' : result.outcome.reason))
          .join('; ')})`
      : ''
  }`,
);
console.log(`  all done in ${totalMs.toFixed(0)} ms; ${providerRequests} provider requests`);
console.log(`  ${line('wall time per analysis', wall, 0)}`);
console.log(`  ${line('kubemend overhead (wall − model time)', overhead)}`);
console.log(`  ${line('beyond the model latency (incl. SDK + loopback HTTP)', beyondModel)}`);
console.log(
  `  event-loop delay: p99 ${(loop.percentile(99) / 1e6).toFixed(1)} ms, max ${(loop.max / 1e6).toFixed(1)} ms`,
);

const ok = errors.length === 0 && percentile(wall, 99) < 10_000 && percentile(overhead, 99) < 50;
console.log(ok ? 'targets met: 0 errors, p99 < 10 s, overhead p99 < 50 ms' : 'TARGETS MISSED');
process.exitCode = ok ? 0 : 1;
