/**
 * `npm run bench:scan` (needs the control plane and the simulator: `npm run cluster:up`): the cost of
 * `kubemend scan -A` on a cluster with about 2,000 pods — the 20 broken objects of the integration
 * test and healthy workloads across 10 namespaces — as a real CLI process (the built `dist/`).
 *
 * Per run: wall time, CPU time (user + system) and peak RSS of the process (`/usr/bin/time -v`),
 * the API calls and in-process duration the report states, and the findings; the load average
 * before each run (the machine is shared: wall time grows with it, CPU time hardly). Three runs as cluster admin (one LIST per kind
 * across the cluster) and three under kubemend's least-privilege identity (one LIST per kind and
 * namespace it may read). Building the world takes minutes and is not measured; it is kept for the
 * next run (BENCH_CLEAN=1 deletes it and restores the default world).
 *
 * Env: BENCH_PODS (default 2000), BENCH_RUNS (default 3). Writes bench/results/scan-latest.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { ScanReportSchema } from '../src/domain/index.js';
import {
  ADMIN_KUBECONFIG,
  KUBEMEND_KUBECONFIG,
  requireCluster,
  runClusterScript,
} from '../test/cluster/cluster-harness.js';
import {
  applyWorld,
  createWorld,
  deleteWorld,
  planWorld,
  waitHealthy,
  worldOverlay,
} from '../test/scan/cluster-world.js';

const targetPods = Number(process.env.BENCH_PODS ?? 2000);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const replicas = 5;

/** Pods the manifests will run (Deployments and StatefulSets × replicas, one per Job). */
function podsOf(manifests: ReadonlyArray<Record<string, unknown>>): number {
  let pods = 0;
  for (const manifest of manifests) {
    const spec = manifest.spec as { replicas?: number } | undefined;
    if (manifest.kind === 'Deployment' || manifest.kind === 'StatefulSet') pods += spec?.replicas ?? 1;
    if (manifest.kind === 'Job') pods += 1;
  }
  return pods;
}

let healthyCount = Math.ceil(targetPods / replicas);
let world = planWorld('bench-scan', 10, healthyCount, replicas);
const count = () => [...world.manifests.values()].reduce((sum, list) => sum + podsOf(list), 0);
while (count() < targetPods) world = planWorld('bench-scan', 10, ++healthyCount, replicas);
const pods = count();

await requireCluster();
const started = performance.now();
await applyWorld(worldOverlay(Math.ceil((pods * 1.2) / 3)), 'bench-scan');
runClusterScript('kubemend-identity.sh', [...world.namespaces]);
createWorld(world);
await waitHealthy(world, 1_800_000);
console.log(
  `world: ${pods} pods of ${healthyCount} healthy workloads and ${world.expected.size} broken objects in ${world.namespaces.length} namespaces, ready in ${Math.round((performance.now() - started) / 1000)} s`,
);

interface Run {
  identity: string;
  wallMs: number;
  /** User + system CPU of the process: what the scan costs this machine, whatever the load. */
  cpuMs: number;
  peakRssMb: number;
  apiCalls: number;
  reportMs: number;
  findings: number;
  pods: number;
  exit: number | null;
}

function scanOnce(identity: 'admin' | 'kubemend'): Run {
  const kubeconfig = identity === 'admin' ? ADMIN_KUBECONFIG : KUBEMEND_KUBECONFIG;
  const result = spawnSync(
    '/usr/bin/time',
    ['-v', process.execPath, 'dist/bundle/kubemend.js', 'scan', '-A', '--json', '--kubeconfig', kubeconfig],
    {
      encoding: 'utf8',
      env: { ...process.env, KUBEMEND_STORAGE: 'memory', KUBEMEND_POLICY_FILE: '' },
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const field = (name: string) => new RegExp(`${name}: (.+)`).exec(result.stderr)?.[1]?.trim() ?? '';
  const [minutes, seconds] = field('Elapsed \\(wall clock\\) time \\(h:mm:ss or m:ss\\)')
    .split(':')
    .slice(-2);
  const report = ScanReportSchema.parse(JSON.parse(result.stdout));
  return {
    identity,
    wallMs: Math.round((Number(minutes) * 60 + Number(seconds)) * 1000),
    cpuMs: Math.round(
      (Number(field('User time \\(seconds\\)')) + Number(field('System time \\(seconds\\)'))) * 1000,
    ),
    peakRssMb: Math.round(Number(field('Maximum resident set size \\(kbytes\\)')) / 1024),
    apiCalls: report.apiCalls,
    reportMs: report.durationMs,
    findings: report.findings.length,
    pods: report.checked.Pod ?? 0,
    exit: result.status,
  };
}

const results: Run[] = [];
for (const identity of ['admin', 'kubemend'] as const) {
  for (let run = 0; run < runs; run++) {
    const load = loadavg()[0]!.toFixed(2);
    const result = scanOnce(identity);
    results.push(result);
    console.log(
      `${identity.padEnd(8)} run ${run + 1}: wall ${result.wallMs} ms, CPU ${result.cpuMs} ms, peak RSS ${result.peakRssMb} MB, ${result.apiCalls} API calls, scan ${result.reportMs} ms, ${result.pods} pods read, ${result.findings} findings, exit ${result.exit} (load ${load})`,
    );
  }
}
mkdirSync('bench/results', { recursive: true });
writeFileSync(
  'bench/results/scan-latest.json',
  `${JSON.stringify({ date: new Date().toISOString(), pods, namespaces: world.namespaces.length, loadavg: loadavg(), results }, null, 2)}\n`,
);
if (process.env.BENCH_CLEAN === '1') {
  deleteWorld(world);
  await applyWorld(undefined, 'default');
}
