/**
 * `kubemend scan` on the real control plane: 20 broken objects of different categories and 200
 * healthy workloads across 10 namespaces. `scan -A` (a real CLI process) reports each broken object
 * once with the right category and nothing on the healthy ones — among them negative controls whose
 * readiness probe failed once before the app listened — under kubemend's least-privilege identity
 * (one LIST per namespace it may read) and as cluster admin (one LIST per kind); `analyze TYPE/NAME`
 * builds the issue from the live object; words alone find their object.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClusterGateway } from '../../src/cluster/kube-gateway.js';
import { loadConfiguration } from '../../src/config/configuration.js';
import { loadPolicies } from '../../src/config/policies.js';
import {
  objectLabel,
  RemediateOutputSchema,
  type ScanReport,
  ScanReportSchema,
} from '../../src/domain/index.js';
import { RemediationService } from '../../src/service/remediation-service.js';
import {
  ADMIN_KUBECONFIG,
  KUBEMEND_KUBECONFIG,
  kubectl,
  loadKubeconfig,
  requireCluster,
  runClusterScript,
  uniqueName,
} from '../cluster/cluster-harness.js';
import {
  applyWorld,
  createWorld,
  deleteWorld,
  planWorld,
  waitHealthy,
  worldOverlay,
} from './cluster-world.js';

const world = planWorld(uniqueName('scan'), 10, 200);
const ours = (label: string) =>
  world.namespaces.some((namespace) => label.includes(`/${namespace}/`)) ||
  label.startsWith('Node/sim-node-');
let service: RemediationService;

function cli(args: string[], kubeconfig = KUBEMEND_KUBECONFIG) {
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'src/interfaces/cli/main.ts', ...args, '--kubeconfig', kubeconfig],
    {
      encoding: 'utf8',
      env: { ...process.env, KUBEMEND_STORAGE: 'memory', KUBEMEND_POLICY_FILE: '' },
      timeout: 120_000,
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** What the report says about our objects: `Kind/namespace/name category`. */
function found(report: ScanReport): string[] {
  return report.findings
    .map((finding) => `${objectLabel(finding.object)} ${finding.category}`)
    .filter((line) => ours(line))
    .sort();
}

const expected = [...world.expected].map(([label, category]) => `${label} ${category}`).sort();

beforeAll(async () => {
  await requireCluster();
  await applyWorld(worldOverlay(), 'scan-integration');
  runClusterScript('kubemend-identity.sh', [...world.namespaces]);
  createWorld(world);
  service = new RemediationService({
    configuration: loadConfiguration({ env: {} }),
    policies: loadPolicies(undefined),
    cluster: new KubeClusterGateway(loadKubeconfig(KUBEMEND_KUBECONFIG)),
  });
  await waitHealthy(world, 420_000);
  // Back-offs, the HPA's syncs and Job retries take a while: wait until the scan has seen them all.
  const deadline = Date.now() + 420_000;
  let last: string[] = [];
  for (;;) {
    last = found(await service.scan({ allNamespaces: true }));
    if (JSON.stringify(last) === JSON.stringify(expected)) break;
    if (Date.now() > deadline)
      throw new Error(
        `the broken objects never all showed: expected ${expected.join(', ')}; last scan ${last.join(', ')}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 5_000));
  }
}, 1_000_000);

afterAll(async () => {
  deleteWorld(world);
  await applyWorld(undefined, 'default');
}, 300_000);

describe('kubemend scan on the real control plane', () => {
  it('scan -A reports each broken object once, with the right category, and nothing on healthy ones (least privilege)', () => {
    const { code, stdout, stderr } = cli(['scan', '-A', '--json']);
    expect(code, stderr).toBe(3);
    const report = ScanReportSchema.parse(JSON.parse(stdout));
    expect(found(report)).toEqual(expected);
    const labels = report.findings.map((finding) => objectLabel(finding.object));
    expect(new Set(labels).size).toBe(labels.length); // each once
    // Namespaces that were not opted in are reported, not guessed at.
    expect(report.partial).toBe(true);
    expect(report.notes.join('\n')).toMatch(/namespace kube-system: not permitted to list/);
    expect(report.checked.Pod).toBeGreaterThanOrEqual(190);
  });

  it('as cluster admin, reads one LIST per kind (not per namespace, not per pod)', () => {
    const { code, stdout, stderr } = cli(['scan', '-A', '--json'], ADMIN_KUBECONFIG);
    expect(code, stderr).toBe(3);
    const report = ScanReportSchema.parse(JSON.parse(stdout));
    expect(found(report)).toEqual(expected);
    expect(report.partial).toBe(false);
    // 16 kinds (one page each at this size), ConfigMaps and PodMetrics, and a few log reads per failure.
    expect(report.apiCalls).toBeLessThan(18 + 2 * world.expected.size);
  });

  it('groups pods by owner and explains a Service by the workload whose pods it selects', () => {
    const report = ScanReportSchema.parse(JSON.parse(cli(['scan', '-A', '--json'], ADMIN_KUBECONFIG).stdout));
    const cruncher = report.findings.find((f) => f.object.name === 'cruncher');
    expect(cruncher?.object.kind).toBe('HorizontalPodAutoscaler');
    const db = report.findings.find((f) => f.object.kind === 'StatefulSet' && f.object.name === 'db');
    expect(db?.related).toEqual([expect.stringMatching(/^Service\/.*\/db$/)]);
    const agent = report.findings.find((f) => f.object.name === 'log-agent');
    expect(agent?.pods?.total).toBeGreaterThanOrEqual(3);
    expect(agent?.pods?.failing).toBe(agent?.pods?.total);
  });

  it('negative controls: pods whose readiness probe failed once before listening are not findings', () => {
    const namespace = world.namespaces[0]!;
    const events = kubectl([
      'get',
      'events',
      '-n',
      namespace,
      '--field-selector',
      'reason=Unhealthy',
      '-o',
      'json',
    ]);
    const blips = (
      JSON.parse(events) as { items: Array<{ involvedObject: { name: string }; message: string }> }
    ).items
      .filter(
        (event) =>
          event.involvedObject.name.startsWith('app-') && /Readiness probe failed/.test(event.message),
      )
      .map((event) => event.involvedObject.name);
    expect(blips.length).toBeGreaterThan(0); // the control is real: the probe did fail once
    const report = ScanReportSchema.parse(JSON.parse(cli(['scan', '-n', namespace, '--json']).stdout));
    expect(report.findings.filter((f) => f.object.name.startsWith('app-'))).toEqual([]);
  });

  it('scan -n NS,NS prints a table and exits 3; a namespace without failures exits 0', () => {
    const [first, second] = world.namespaces;
    const { code, stdout } = cli(['scan', '-n', `${first},${second}`]);
    expect(code).toBe(3);
    expect(stdout).toMatch(/^NAMESPACE\s+OBJECT\s+CATEGORY\s+CONFIDENCE\s+CAUSE\s+ACTION \(RISK\)$/m);
    expect(stdout).toMatch(new RegExp(`^${first}\\s+deploy/oom\\s+oom-killed\\s+0\\.\\d\\d\\s`, 'm'));
    const quiet = cli(['scan', '-n', 'kubemend-system']);
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).toMatch(/^No failing objects in namespace kubemend-system/m);
  });

  it('analyze deploy/NAME -n NS builds the issue from the live object', () => {
    const namespace = world.namespaces[0]!;
    const { code, stdout, stderr } = cli(['analyze', 'deploy/oom', '-n', namespace, '--json']);
    expect(code, stderr).toBe(0);
    const output = RemediateOutputSchema.parse(JSON.parse(stdout));
    expect(output.analysis.category).toBe('oom-killed');
    expect(output.analysis.target).toMatchObject({ chosenBy: 'input', kind: 'Deployment', name: 'oom' });
    expect(output.status).toBe('pending');
  });

  it('words alone find their object, and a namespace alone is scanned', async () => {
    const namespace = world.namespaces[0]!;
    const named = await service.remediate({
      issue: `the payments service in the ${namespace} namespace is down, can you fix it?`,
    });
    expect(named.analysis.target).toMatchObject({ chosenBy: 'words', kind: 'Deployment', name: 'payments' });
    expect(named.analysis.category).toBe('crash-loop');
    const scanned = await service.remediate({ issue: `users report errors from namespace ${namespace}` });
    expect(scanned.analysis.target?.chosenBy).toBe('scan');
    expect(['oom', 'payments']).toContain(scanned.analysis.target?.name);
  });
});
