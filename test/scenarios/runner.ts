// The scenario runner: for each test/scenarios/<name>/ it writes the world, applies
// setup-before.yaml and waits for it to be Available, applies setup.yaml in a fresh namespace,
// waits for the expected signals, runs kubemend's step when one is plugged in, checks the
// outcome, and cleans up. See docs/simulation.md.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseAllDocuments } from 'yaml';
import type { RemediateInput, RemediateOutput } from '../../src/domain/index.js';
import { worldWithOverlay, WorldError } from '../sim/world.js';
import { assessOutput, type OutcomeFacts } from './assess.js';
import { ApiError, type ClusterIO } from './cluster-io.js';
import { ExpectSchema, formatIssues, RemediateInputSchema, type Expect } from './schema.js';
import { describeSignal, evaluateSignal, getPath, type SignalVerdict } from './signals.js';
import { diffSnapshots, snapshotOf, VOLATILE_RESOURCES, type Snapshot } from './snapshot.js';
import { type FixTiming, RolloutClock } from './timing.js';

export const SIM_NAMESPACE = 'kubemend-sim';

export interface Manifest {
  readonly kind: string;
  readonly name: string;
  /** Set when the manifest names its own namespace (it keeps it). */
  readonly namespace?: string;
  readonly document: Record<string, unknown>;
}

export interface Scenario {
  readonly name: string;
  readonly dir: string;
  readonly worldYaml?: string;
  readonly setupBefore: readonly Manifest[];
  readonly setup: readonly Manifest[];
  readonly input: RemediateInput;
  readonly expect: Expect;
}

/** kubemend's step, plugged in by the execution engine's issue: absent until then. */
export type RemediateFn = (scenario: Scenario, input: RemediateInput) => Promise<RemediateOutput>;

export interface ScenarioResult {
  readonly name: string;
  readonly ok: boolean;
  readonly awaitsExecution: boolean;
  readonly seconds: number;
  readonly summary: string;
  readonly problems: readonly string[];
  readonly phases: Readonly<Record<string, number>>;
  /** A verified fix: its time against the workload's own rollout time (timing.ts). */
  readonly timing?: FixTiming;
}

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
}

const SCENARIO_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function readManifests(path: string): Manifest[] {
  if (!existsSync(path)) return [];
  const manifests: Manifest[] = [];
  for (const document of parseAllDocuments(readFileSync(path, 'utf8'))) {
    if (document.errors.length) throw new ScenarioError(`${path}: ${document.errors.map((e) => e.message).join('; ')}`);
    const value = document.toJS() as Record<string, unknown> | null;
    if (value === null || value === undefined) continue;
    const metadata = (value['metadata'] ?? {}) as { name?: string; namespace?: string };
    if (typeof value['kind'] !== 'string' || !metadata.name) throw new ScenarioError(`${path}: every manifest needs kind and metadata.name`);
    manifests.push({ kind: value['kind'], name: metadata.name, ...(metadata.namespace ? { namespace: metadata.namespace } : {}), document: value });
  }
  return manifests;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (error) {
    throw new ScenarioError(`${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export function loadScenario(dir: string, name: string): Scenario {
  if (!SCENARIO_NAME.test(name)) throw new ScenarioError(`${dir}: the directory name is the namespace, so it must be a DNS-1123 label`);
  const expected = ExpectSchema.safeParse(readJson(join(dir, 'expect.json')));
  if (!expected.success) throw new ScenarioError(`${join(dir, 'expect.json')}: ${formatIssues(expected.error)}`);
  const input = RemediateInputSchema.safeParse(readJson(join(dir, 'input.json')));
  if (!input.success) throw new ScenarioError(`${join(dir, 'input.json')}: ${formatIssues(input.error)}`);
  const setup = readManifests(join(dir, 'setup.yaml'));
  if (setup.length === 0) throw new ScenarioError(`${dir}: setup.yaml is missing or empty`);
  const worldPath = join(dir, 'world.yaml');
  const worldYaml = existsSync(worldPath) ? readFileSync(worldPath, 'utf8') : undefined;
  try {
    worldWithOverlay(worldYaml, worldPath);
  } catch (error) {
    if (error instanceof WorldError) throw new ScenarioError(error.message);
    throw error;
  }
  return {
    name,
    dir,
    ...(worldYaml !== undefined ? { worldYaml } : {}),
    setupBefore: readManifests(join(dir, 'setup-before.yaml')),
    setup,
    input: input.data,
    expect: expected.data,
  };
}

export function loadScenarios(root: string, only: readonly string[] = []): Scenario[] {
  const names = readdirSync(root)
    .filter((entry) => statSync(join(root, entry)).isDirectory() && existsSync(join(root, entry, 'expect.json')))
    .sort();
  const unknown = only.filter((name) => !names.includes(name));
  if (unknown.length) throw new ScenarioError(`no scenario named ${unknown.join(', ')} in ${root} (have: ${names.join(', ')})`);
  return names.filter((name) => only.length === 0 || only.includes(name)).map((name) => loadScenario(join(root, name), name));
}

/** Polls `probe` until it returns a value, or throws after `timeoutMs` with `describe()` of the last state. */
export async function pollUntil<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, describe?: () => string, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail = describe?.() ?? (lastError instanceof Error ? lastError.message : '');
      throw new ScenarioError(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${detail ? `: ${detail}` : ''}`);
    }
    await sleep(intervalMs);
  }
}

const WORKLOADS: Record<string, string> = { Deployment: 'deployment', StatefulSet: 'statefulset', DaemonSet: 'daemonset' };

export interface RunnerOptions {
  readonly io: ClusterIO;
  readonly kubemend?: RemediateFn;
  /** Keep the namespace and world after the scenario (debugging). */
  readonly keep?: boolean;
  readonly log?: (line: string) => void;
}

export class ScenarioRunner {
  private resourceList: string[] | undefined;
  private runCounter = 0;

  constructor(private readonly options: RunnerOptions) {}

  private get io(): ClusterIO {
    return this.options.io;
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  /** Writes the world ConfigMap and waits until the simulator reports it applied. */
  async applyWorld(worldYaml: string | undefined, label: string): Promise<void> {
    const { yaml, world } = worldWithOverlay(worldYaml, label);
    this.runCounter += 1;
    const body = JSON.stringify({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'world', namespace: SIM_NAMESPACE, annotations: { 'kubemend.io/applied-for': `${label}#${this.runCounter}` } },
      data: { 'world.yaml': yaml },
    });
    const applied = JSON.parse(await this.io.kubectl(['apply', '-o', 'json', '-f', '-'], body)) as { metadata: { resourceVersion: string } };
    const version = applied.metadata.resourceVersion;
    let last = '';
    await pollUntil(
      `the simulator to apply world ${version} (${label})`,
      async () => {
        const status = (await this.io.get(`/api/v1/namespaces/${SIM_NAMESPACE}/configmaps/world-status`)) as { data?: Record<string, string> };
        last = JSON.stringify(status.data ?? {});
        if (status.data?.['observedResourceVersion'] !== version) return undefined;
        if (status.data['error']) throw new ScenarioError(`the simulator rejected the world: ${status.data['error']}`);
        return true;
      },
      60_000,
      () => `world-status ${last}; is the simulator running? (scripts/cluster/up.sh, .state/cluster/logs/kubemend-sim.log)`,
    );
    // The node-lifecycle controller has to lift not-ready taints of nodes that are Ready again
    // (and set them on nodes that are not) before a scenario's scheduling is deterministic.
    let nodeState = '';
    await pollUntil(
      'the world nodes to settle (Ready condition and not-ready taints)',
      async () => {
        const nodes = await this.io.objects('nodes', '', 'kubemend.io/simulated=true');
        const states = world.nodes.map((spec) => {
          const node = nodes.find((n) => getPath(n, 'metadata.name') === spec.name);
          const ready = ((getPath(node, 'status.conditions') as Array<{ type: string; status: string }> | undefined) ?? []).find((c) => c.type === 'Ready')?.status;
          const taints = ((getPath(node, 'spec.taints') as Array<{ key: string; effect: string }> | undefined) ?? []).filter((t) => t.key === 'node.kubernetes.io/not-ready' || t.key === 'node.kubernetes.io/unreachable');
          const wantReady = spec.conditions.Ready ?? 'True';
          const settled = node !== undefined && ready === wantReady && (wantReady === 'True' ? taints.length === 0 : taints.some((t) => t.effect === 'NoSchedule'));
          return { name: spec.name, ready, taints: taints.map((t) => `${t.key}:${t.effect}`), settled };
        });
        nodeState = JSON.stringify(states);
        return nodes.length === world.nodes.length && states.every((s) => s.settled) ? true : undefined;
      },
      120_000,
      () => nodeState,
    );
  }

  private async applyManifests(manifests: readonly Manifest[], namespace: string): Promise<void> {
    const own = manifests.filter((m) => m.namespace === undefined).map((m) => m.document);
    const named = manifests.filter((m) => m.namespace !== undefined).map((m) => m.document);
    const asList = (items: unknown[]) => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
    if (named.length) await this.io.kubectl(['apply', '-f', '-'], asList(named));
    if (own.length) await this.io.kubectl(['apply', '-n', namespace, '-f', '-'], asList(own));
  }

  private async waitAvailable(manifests: readonly Manifest[], namespace: string, timeoutSeconds: number): Promise<void> {
    for (const manifest of manifests) {
      const resource = WORKLOADS[manifest.kind];
      const ns = manifest.namespace ?? namespace;
      if (resource) await this.io.kubectl(['rollout', 'status', '-n', ns, `${resource}/${manifest.name}`, `--timeout=${timeoutSeconds}s`], undefined, (timeoutSeconds + 10) * 1000);
      else if (manifest.kind === 'Job') await this.io.kubectl(['wait', '-n', ns, '--for=condition=Complete', `job/${manifest.name}`, `--timeout=${timeoutSeconds}s`], undefined, (timeoutSeconds + 10) * 1000);
    }
  }

  private async resources(): Promise<string[]> {
    if (!this.resourceList) {
      const out = await this.io.kubectl(['api-resources', '--namespaced=true', '--verbs=list,get', '-o', 'name']);
      this.resourceList = out
        .split('\n')
        .map((line) => line.trim())
        .filter((name) => name && !VOLATILE_RESOURCES.has(name));
    }
    return this.resourceList;
  }

  /** Every object in the scenario namespace, and the scenario's own objects in other namespaces. */
  async snapshot(scenario: Scenario): Promise<Snapshot> {
    const kinds = (await this.resources()).join(',');
    const items: Array<Record<string, unknown>> = [];
    const list = async (namespace: string) =>
      ((JSON.parse(await this.io.kubectl(['get', kinds, '-n', namespace, '-o', 'json', '--ignore-not-found'])) as { items?: Array<Record<string, unknown>> }).items ?? []);
    items.push(...(await list(scenario.name)));
    const foreign = [...scenario.setupBefore, ...scenario.setup].filter((m) => m.namespace !== undefined && m.namespace !== scenario.name);
    for (const namespace of new Set(foreign.map((m) => m.namespace as string))) {
      const names = foreign.filter((m) => m.namespace === namespace).map((m) => m.name);
      items.push(...(await list(namespace)).filter((item) => names.some((name) => String(getPath(item, 'metadata.name')).startsWith(name))));
    }
    return snapshotOf(items);
  }

  private async createNamespace(name: string): Promise<void> {
    try {
      await this.io.get(`/api/v1/namespaces/${name}`);
      this.log(`  namespace ${name} is left from an earlier run: deleting it first`);
      await this.io.kubectl(['delete', 'namespace', name, '--wait=true', '--timeout=180s'], undefined, 200_000);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error;
    }
    await this.io.kubectl(['create', 'namespace', name]);
    await this.io.kubectl(['label', 'namespace', name, 'kubemend.io/scenario=true']);
    // Pods are refused until the ServiceAccount controller has made `default`.
    await pollUntil(`ServiceAccount ${name}/default`, async () => ((await this.io.get(`/api/v1/namespaces/${name}/serviceaccounts/default`)) ? true : undefined), 60_000);
  }

  private async cleanUp(scenario: Scenario): Promise<void> {
    const foreign = [...scenario.setup, ...scenario.setupBefore].filter((m) => m.namespace !== undefined && m.namespace !== scenario.name);
    if (foreign.length) {
      await this.io.kubectl(['delete', '--ignore-not-found', '--wait=true', '--timeout=120s', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: foreign.map((m) => m.document) }), 150_000);
    }
    // Workloads and pods first: the simulated kubelet confirms pod deletions at once, so the
    // namespace controller then finds nothing left to wait for (instead of re-queueing for seconds).
    await this.io.kubectl(
      ['delete', 'deployments,statefulsets,daemonsets,jobs,cronjobs,replicasets,pods', '--all', '-n', scenario.name, '--ignore-not-found', '--wait=true', '--timeout=120s'],
      undefined,
      150_000,
    );
    // The namespace itself goes in the background (the namespace controller takes ~5 s);
    // waitForNamespacesGone() at the end of a run waits for all of them.
    await this.io.kubectl(['delete', 'namespace', scenario.name, '--ignore-not-found', '--wait=false']);
  }

  /** Waits until every scenario namespace (label kubemend.io/scenario=true) is gone. */
  async waitForNamespacesGone(timeoutSeconds = 180): Promise<void> {
    await pollUntil(
      'scenario namespaces to be deleted',
      async () => ((await this.io.objects('namespaces', '', 'kubemend.io/scenario=true')).length === 0 ? true : undefined),
      timeoutSeconds * 1000,
      undefined,
      500,
    );
  }

  private async signalsVerdicts(scenario: Scenario): Promise<SignalVerdict[]> {
    return Promise.all(
      scenario.expect.signals.map((signal) =>
        evaluateSignal(signal, scenario.name, this.io).catch((error: unknown) => ({ ok: false, detail: error instanceof Error ? error.message : String(error) })),
      ),
    );
  }

  /** Available without restarts for 10 s; ready endpoints. Problems as text (empty = healthy). */
  async healthProblems(scenario: Scenario): Promise<string[]> {
    const problems: string[] = [];
    const { expect } = scenario;
    const restarts = async (selector: string) =>
      (await this.io.objects('pods', scenario.name, selector)).map((pod) => {
        const statuses = (getPath(pod, 'status.containerStatuses') as Array<{ restartCount: number; ready: boolean }> | undefined) ?? [];
        return `${String(getPath(pod, 'metadata.name'))}:${statuses.map((s) => `${s.restartCount}/${s.ready}`).join(',')}`;
      });
    const selectors: string[] = [];
    for (const { kind, name } of expect.healthy) {
      try {
        await this.io.kubectl(['rollout', 'status', '-n', scenario.name, `${WORKLOADS[kind]}/${name}`, `--timeout=${expect.timeoutSeconds}s`], undefined, (expect.timeoutSeconds + 10) * 1000);
        const workload = JSON.parse(await this.io.kubectl(['get', '-n', scenario.name, `${WORKLOADS[kind]}/${name}`, '-o', 'json'])) as { spec: { selector: { matchLabels?: Record<string, string> } } };
        selectors.push(Object.entries(workload.spec.selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(','));
      } catch (error) {
        problems.push(`${kind}/${name} is not Available: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    if (selectors.length && problems.length === 0) {
      const before = await Promise.all(selectors.map(restarts));
      await sleep(10_000); // the definition of healthy: no restarts during 10 s
      const after = await Promise.all(selectors.map(restarts));
      if (JSON.stringify(before) !== JSON.stringify(after)) problems.push(`pods restarted or changed readiness within 10 s: ${JSON.stringify(before)} → ${JSON.stringify(after)}`);
    }
    for (const { service, min } of expect.endpoints) {
      const slices = await this.io.objects('endpointslices', scenario.name, `kubernetes.io/service-name=${service}`);
      const ready = slices.flatMap((slice) => ((slice['endpoints'] as Array<{ conditions?: { ready?: boolean } }> | undefined) ?? []).filter((e) => e.conditions?.ready));
      if (ready.length < min) problems.push(`service ${service} has ${ready.length} ready endpoint(s), ${min} required`);
    }
    return problems;
  }

  async run(scenario: Scenario): Promise<ScenarioResult> {
    const started = Date.now();
    const phases: Record<string, number> = {};
    const outcome = await this.execute(scenario, phases);
    const cleanupStart = Date.now();
    if (!this.options.keep) {
      try {
        await this.cleanUp(scenario);
      } catch (error) {
        this.log(`  clean-up of ${scenario.name} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    phases['cleanup'] = Math.round((Date.now() - cleanupStart) / 100) / 10;
    return { ...outcome, name: scenario.name, phases, seconds: Math.round((Date.now() - started) / 100) / 10 };
  }

  private async execute(scenario: Scenario, phases: Record<string, number>): Promise<Omit<ScenarioResult, 'name' | 'phases' | 'seconds'>> {
    let mark = Date.now();
    const phase = (name: string) => {
      const now = Date.now();
      phases[name] = Math.round((now - mark) / 100) / 10;
      mark = now;
    };
    const { expect } = scenario;
    const result = (ok: boolean, summary: string, problems: string[] = [], awaitsExecution = false) => ({ ok, awaitsExecution, summary, problems });
    try {
      await this.applyWorld(scenario.worldYaml, scenario.name);
      await this.createNamespace(scenario.name);
      phase('world+namespace');
      if (scenario.setupBefore.length) {
        await this.applyManifests(scenario.setupBefore, scenario.name);
        await this.waitAvailable(scenario.setupBefore, scenario.name, expect.timeoutSeconds);
        phase('setup-before available');
      }
      await this.applyManifests(scenario.setup, scenario.name);
      let verdicts: SignalVerdict[] = [];
      try {
        await pollUntil(
          'the expected signals',
          async () => {
            verdicts = await this.signalsVerdicts(scenario);
            return verdicts.every((v) => v.ok) ? true : undefined;
          },
          expect.timeoutSeconds * 1000,
          () =>
            verdicts
              .map((v, i) => (v.ok ? undefined : `[${i + 1}] ${describeSignal(expect.signals[i]!)} — ${v.detail}`))
              .filter(Boolean)
              .join(' | '),
          500,
        );
      } finally {
        phase('signals');
      }
      const before = await this.snapshot(scenario);
      const kubemend = this.options.kubemend;
      if (!kubemend) {
        const after = await this.snapshot(scenario);
        const changes = diffSnapshots(before, after);
        phase('snapshot');
        if (expect.outcome === 'fixed' || expect.outcome === 'rolled-back') {
          return result(true, `signals ok (outcome needs execution: ${expect.outcome})`, [], true);
        }
        if (changes.length) return result(false, 'objects changed without any remediation', changes);
        return result(true, `signals ok, nothing changed (${expect.outcome})`);
      }
      const input: RemediateInput = { ...scenario.input, mode: expect.mode, ...(expect.policy ? { policy: expect.policy } : {}) };
      const clock = new RolloutClock(this.io, scenario);
      await clock.start();
      const output = await kubemend(scenario, input);
      const timing = await clock.stop(output);
      phase('kubemend');
      const healthyProblems = expect.outcome === 'fixed' ? await this.healthProblems(scenario) : [];
      const after = await this.snapshot(scenario);
      const targetKey = scenario.input.target ? `${scenario.input.target.kind}/${scenario.input.target.namespace ?? scenario.name}/${scenario.input.target.name}` : undefined;
      const facts: OutcomeFacts = {
        changes: diffSnapshots(before, after),
        healthyProblems,
        targetRestored: targetKey !== undefined && before.get(targetKey)?.digest === after.get(targetKey)?.digest,
      };
      const problems = assessOutput(expect, output, facts);
      phase('outcome');
      const summary = problems.length ? 'outcome not met' : `${expect.outcome} (${output.analysis.category})`;
      return { ...result(problems.length === 0, summary, problems), ...(timing ? { timing } : {}) };
    } catch (error) {
      return result(false, 'error', [error instanceof Error ? error.message : String(error)]);
    }
  }
}
