/**
 * `npm run fuzz`: property-based fuzzing of the HTTP API (the real fastify app, in process) and of
 * the MCP server (in-memory transport) — the same generators and invariants as test/fuzz/, at
 * benchmark scale: FUZZ_RUNS cases in all (default 100,000; 80 % HTTP, 20 % MCP). FUZZ_SEED
 * replays a run. Reports cases per second; on a failure, the counterexample and the seed and path
 * that replay it, and exits 1. Writes bench/results/fuzz-latest.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import fc from 'fast-check';
import {
  checkHttpAlive,
  checkHttpCase,
  checkMcpAlive,
  checkMcpCase,
  httpCaseArbitrary,
  httpTarget,
  mcpCaseArbitrary,
  mcpTarget,
} from '../test/fuzz/harness.js';

const runs = Number(process.env.FUZZ_RUNS ?? 100_000);
const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const httpRuns = Math.round(runs * 0.8);
const mcpRuns = runs - httpRuns;

interface Row {
  readonly edge: string;
  readonly cases: number;
  readonly seconds: number;
  readonly casesPerSecond: number;
  readonly failure?: string;
}

async function fuzz(edge: string, count: number, property: fc.IAsyncProperty<[unknown]>): Promise<Row> {
  const started = performance.now();
  const details = await fc.check(property, { numRuns: count, seed, endOnFailure: true });
  const seconds = (performance.now() - started) / 1000;
  const cases = details.numRuns;
  const row: Row = {
    edge,
    cases,
    seconds: Number(seconds.toFixed(1)),
    casesPerSecond: Math.round(cases / seconds),
    ...(details.failed
      ? {
          failure: `${String(details.errorInstance)} — replay: FUZZ_SEED=${details.seed} (path ${details.counterexamplePath}); counterexample: ${JSON.stringify(details.counterexample).slice(0, 2_000)}`,
        }
      : {}),
  };
  console.log(
    `${edge}: ${cases} cases in ${row.seconds} s — ${row.casesPerSecond} cases/s${row.failure ? `\n  FAILED: ${row.failure}` : ''}`,
  );
  return row;
}

console.log(
  `fuzz: ${runs} cases (seed ${seed}) on ${cpus().length} × ${cpus()[0]?.model ?? '?'}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
const http = await httpTarget();
const mcp = await mcpTarget();
const rows: Row[] = [];
try {
  rows.push(
    await fuzz('HTTP', httpRuns, fc.asyncProperty(httpCaseArbitrary, (c) => checkHttpCase(http, c)) as never),
  );
  await checkHttpAlive(http);
  rows.push(
    await fuzz('MCP', mcpRuns, fc.asyncProperty(mcpCaseArbitrary, (c) => checkMcpCase(mcp, c)) as never),
  );
  await checkMcpAlive(mcp);
} finally {
  await http.close();
  await mcp.close();
}
const total = rows.reduce((sum, row) => sum + row.cases, 0);
const seconds = rows.reduce((sum, row) => sum + row.seconds, 0);
console.log(`total: ${total} cases in ${seconds.toFixed(1)} s — ${Math.round(total / seconds)} cases/s`);
mkdirSync('bench/results', { recursive: true });
writeFileSync(
  'bench/results/fuzz-latest.json',
  `${JSON.stringify({ at: new Date().toISOString(), seed, load: loadavg(), rows }, null, 2)}\n`,
);
if (rows.some((row) => row.failure)) process.exitCode = 1;
