/**
 * `npm run bench:cli`: `kubemend analyze` from process start to exit, as a person or a CI job runs
 * it (the built CLI, `node dist/bundle/kubemend.js`, the bundle `npm run build` writes):
 *
 * - offline: the bundled example (`examples/oom-killed.json --offline`);
 * - live: a crash-looping Deployment on the test control plane, under kubemend's least-privilege
 *   identity (connect, version probe, live gathering, analysis, session and audit written).
 *   Needs the control plane up (`npm run cluster:up`, or
 *   `scripts/cluster/with-cluster.sh npm run bench:cli`); without it the live rows are skipped
 *   and said so. BENCH_LIVE=0 skips them on purpose.
 *
 * Also `node -e 0` (the floor: Node's own start-up on this machine). Reports p50/p95/max per row,
 * CPU time per run, the machine and its load average (a shared machine inflates every wall-clock
 * figure; CPU time much less so); targets:
 * live p50 < 500 ms, offline p50 < 300 ms. BENCH_RUNS sets the runs per row (default 30).
 * Writes bench/results/cli-latest.json.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const RUNS = Number(process.env.BENCH_RUNS ?? 30);
const CLI = 'dist/bundle/kubemend.js';
const STATE = process.env.KM_STATE ?? join(process.cwd(), '.state', 'cluster');
const KUBECTL = join(process.env.KM_BIN ?? join(process.env.KM_K8S_DIR ?? '.k8s', 'bin'), 'kubectl');
const ADMIN = join(STATE, 'admin.kubeconfig');
const KUBEMEND = join(STATE, 'kubemend.kubeconfig');

interface Row {
  readonly name: string;
  readonly runs: number;
  /** CPU time (user + system) per run, from the kernel's account of waited-for children (Linux). */
  readonly cpuMeanMs?: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
  readonly targetP50Ms?: number;
}

const percentile = (values: readonly number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)] ??
  Number.NaN;

/** Wall time from spawn to exit of one process; throws unless it exits `expectedCode`. */
function timeRun(args: readonly string[], env: NodeJS.ProcessEnv, expectedCode = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code === expectedCode) resolve(ms);
      else reject(new Error(`${args.join(' ')} exited ${code}:\n${stderr}`));
    });
  });
}

/** User + system time of this process's waited-for children so far, in ms (Linux), else undefined. */
function childrenCpuMs(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the command: state is field 3; cutime and cstime are fields 16 and 17 (clock ticks, 100/s).
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return undefined;
  }
}

async function measure(
  name: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  targetP50Ms?: number,
): Promise<Row> {
  await timeRun(args, env); // warm the file cache
  const times: number[] = [];
  const cpuBefore = childrenCpuMs();
  for (let i = 0; i < RUNS; i++) times.push(await timeRun(args, env));
  const cpuAfter = childrenCpuMs();
  const row = {
    name,
    runs: RUNS,
    ...(cpuBefore !== undefined && cpuAfter !== undefined
      ? { cpuMeanMs: Math.round((cpuAfter - cpuBefore) / RUNS) }
      : {}),
    p50Ms: Math.round(percentile(times, 50)),
    p95Ms: Math.round(percentile(times, 95)),
    maxMs: Math.round(Math.max(...times)),
    ...(targetP50Ms !== undefined ? { targetP50Ms } : {}),
  };
  const verdict =
    targetP50Ms === undefined
      ? ''
      : row.p50Ms < targetP50Ms
        ? ` (target < ${targetP50Ms}: met)`
        : ` (target < ${targetP50Ms}: NOT met)`;
  const cpu = row.cpuMeanMs !== undefined ? `; CPU ${row.cpuMeanMs} ms per run` : '';
  console.log(
    `${name}: p50 ${row.p50Ms} ms, p95 ${row.p95Ms} ms, max ${row.maxMs} ms over ${RUNS} runs${verdict}${cpu}`,
  );
  return row;
}

/**
 * One live run, read whole: it must have read the cluster (no "analysed offline" notice, and the
 * cause only the cluster shows: the simulated container is OOM-killed at its 128Mi limit). A stale kubeconfig would otherwise make the live row measure offline runs.
 */
function checkLive(input: string): void {
  const out = execFileSync(
    process.execPath,
    [CLI, 'analyze', '--input', input, '--kubeconfig', KUBEMEND, '--json'],
    { env, encoding: 'utf8' },
  );
  const answer = JSON.parse(out) as { analysis?: { category?: string }; notices?: string[] };
  const offline = (answer.notices ?? []).find((notice) => /offline|unreachable/.test(notice));
  if (offline !== undefined || answer.analysis?.category !== 'oom-killed')
    throw new Error(`the live run did not read the cluster: ${answer.analysis?.category}; ${offline ?? ''}`);
}

function clusterUp(): boolean {
  if (process.env.BENCH_LIVE === '0' || !existsSync(ADMIN) || !existsSync(KUBEMEND)) return false;
  try {
    return (
      execFileSync(KUBECTL, ['--kubeconfig', ADMIN, 'get', '--raw', '/readyz'], {
        encoding: 'utf8',
        timeout: 10_000,
      }).trim() === 'ok'
    );
  } catch {
    return false;
  }
}

/** A namespace with a restarting (OOM-killed) Deployment kubemend may read (its least-privilege identity). */
async function liveTarget(): Promise<{ namespace: string; input: string }> {
  const namespace = `bench-cli-${Date.now().toString(36)}`;
  execFileSync('bash', ['scripts/cluster/kubemend-identity.sh', namespace], { stdio: 'ignore' });
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'checkout', namespace },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'checkout' } },
      template: {
        metadata: { labels: { app: 'checkout' } },
        spec: {
          containers: [
            { name: 'main', image: 'ghcr.io/acme/api:v1.4.0', resources: { limits: { memory: '128Mi' } } },
          ],
        },
      },
    },
  };
  execFileSync(KUBECTL, ['--kubeconfig', ADMIN, 'apply', '-f', '-'], { input: JSON.stringify(deployment) });
  await sleep(5_000);
  const directory = mkdtempSync(join(tmpdir(), 'kubemend-bench-cli-'));
  const input = join(directory, 'input.json');
  writeFileSync(
    input,
    JSON.stringify({
      issue: 'checkout keeps restarting',
      target: { kind: 'Deployment', namespace, name: 'checkout' },
    }),
  );
  return { namespace, input };
}

if (!existsSync(CLI)) throw new Error(`${CLI} is missing: npm run build first (npm run bench:cli does)`);
const data = mkdtempSync(join(tmpdir(), 'kubemend-bench-cli-data-'));
const env: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  KUBEMEND_DATA_DIR: data,
  KUBEMEND_LOG_LEVEL: 'warn',
};
const machine = { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version };
const loadBefore = loadavg();
console.log(
  `machine: ${machine.cpus} × ${machine.model}, Node ${machine.node}; load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`,
);

const rows: Row[] = [];
rows.push(await measure('node -e 0 (floor)', ['-e', '0'], env));
rows.push(
  await measure(
    'offline: analyze examples/oom-killed.json --offline',
    [CLI, 'analyze', '--input', 'examples/oom-killed.json', '--offline'],
    env,
    300,
  ),
);
let live = 'skipped: BENCH_LIVE=0';
if (process.env.BENCH_LIVE !== '0') {
  if (clusterUp()) {
    const target = await liveTarget();
    try {
      checkLive(target.input);
      rows.push(
        await measure(
          'live: analyze a restarting Deployment (control plane, least privilege)',
          [CLI, 'analyze', '--input', target.input, '--kubeconfig', KUBEMEND],
          env,
          500,
        ),
      );
      live = 'measured';
    } finally {
      execFileSync(
        KUBECTL,
        ['--kubeconfig', ADMIN, 'delete', 'namespace', target.namespace, '--wait=false'],
        { stdio: 'ignore' },
      );
    }
  } else {
    live = `skipped: no control plane at ${STATE} (npm run cluster:up, or scripts/cluster/with-cluster.sh npm run bench:cli)`;
    console.log(`live: ${live}`);
  }
}
const loadAfter = loadavg();
console.log(`load average after: ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`);
mkdirSync('bench/results', { recursive: true });
writeFileSync(
  'bench/results/cli-latest.json',
  `${JSON.stringify({ at: new Date().toISOString(), machine, loadBefore, loadAfter, live, rows }, null, 2)}\n`,
);
