/**
 * The scan engine: everything that is broken in a set of namespaces, with a fix for each. Read the
 * inventory (one paginated LIST per kind and namespace set, in parallel within a bound), group pods
 * by owner, keep what shows a symptom, read what those candidates need beyond it (ConfigMap key
 * names, pod metrics, the logs of containers that ran and failed — never one request per pod per
 * kind), then run the same rules and planner as `analyze` on each candidate's context.
 *
 * Read-only. The cost is O(kinds × namespace sets) LIST pages plus a few log reads per failing
 * object, whatever the number of pods. Reused by `watch` and by the target resolver.
 */
import {
  type ActionTarget,
  type Analysis,
  KIND_SHORT_NAMES,
  objectLabel,
  type RemediateInput,
  type Remediation,
  type ScanFinding,
  type ScanReport,
  type TargetKind,
  asArray,
  asNumber,
  asString,
  at,
} from '../domain/index.js';
import type { ClusterGateway, KubeObject } from '../cluster/gateway.js';
import { contextFromInput } from '../context/normalize.js';
import type { LiveLog } from '../context/live.js';
import { analyzeWithRules } from '../analysis/engine.js';
import { type PlanInput, planRemediation } from '../planning/plan.js';
import type { Policy } from '../planning/policy.js';
import { candidateContext, configMapNames, type Extras, Lookup } from './context.js';
import { groupByOwner } from './groups.js';
import { keyOf, podSkeleton, readInventory, slim } from './inventory.js';
import { podVerdict } from './symptoms.js';
import { type NamespaceSet, ScanReader } from './reader.js';
import { type Candidate, triage } from './triage.js';

export interface ScanOptions {
  /** The namespaces to scan; undefined: all of them. */
  readonly namespaces?: readonly string[];
  readonly labelSelector?: string;
  /** The policy the proposed actions are planned under (mode manual: nothing is executed). */
  readonly policy: Policy;
  /** The team's runbooks, planned like in an analysis. */
  readonly runbooks?: PlanInput['runbooks'];
  /** Objects younger than this are still starting and not judged (default 60 s). */
  readonly settleMs?: number;
  /** A container restart more recent than this is a symptom (default 10 min). */
  readonly recentRestartMs?: number;
  readonly pageSize?: number;
  readonly concurrency?: number;
  /** Log lines read per container (current and previous). */
  readonly tailLines?: number;
  readonly now?: () => number;
  readonly onProgress?: (message: string) => void;
}

/** Beyond the namespaces named, phase-two lists go across the cluster (kept to those namespaces). */
const PER_NAMESPACE_LIMIT = 4;
/** Containers whose logs are read per failing object. */
const LOGGED_CONTAINERS = 2;

export async function scanCluster(gateway: ClusterGateway, options: ScanOptions): Promise<ScanReport> {
  const started = performance.now();
  const progress = options.onProgress ?? (() => undefined);
  const reader = new ScanReader(gateway, { pageSize: options.pageSize, concurrency: options.concurrency });
  const scope: NamespaceSet = options.namespaces
    ? { all: false, names: [...options.namespaces] }
    : { all: true };
  progress(
    options.namespaces ? `reading namespace(s) ${options.namespaces.join(', ')}` : 'reading all namespaces',
  );
  const clock = {
    now: options.now?.() ?? Date.now(),
    settleMs: options.settleMs ?? 60_000,
    recentRestartMs: options.recentRestartMs ?? 10 * 60_000,
  };
  // Only failing pods are kept whole; the others become skeletons as their page arrives.
  const keepWhole = (object: KubeObject): KubeObject =>
    object.kind !== 'Pod' ||
    podVerdict(object, clock, object.metadata?.ownerReferences?.some((o) => o.kind === 'Job') ?? false)
      .state === 'failing'
      ? object
      : podSkeleton(object);
  const inventory = await readInventory(
    reader,
    scope,
    options.labelSelector,
    (kind, count) => progress(`read ${count} ${kind}`),
    keepWhole,
  );
  // Nodes belong to no namespace: judged in an all-namespaces scan without a label selector (a
  // namespaced scan still reads them, as the context of its pods).
  const { candidates, settling } = triage(inventory, groupByOwner(inventory), clock, {
    nodes: options.namespaces === undefined && options.labelSelector === undefined,
  });
  progress(`${candidates.length} object(s) show a failure; reading their details`);
  const extras = await readExtras(reader, candidates, scope, options.tailLines ?? 200);
  progress(`analysing ${candidates.length} object(s)`);
  const lookup = new Lookup(inventory);
  const findings = new Map<string, ScanFinding>();
  for (const candidate of candidates) {
    const finding = analyzeCandidate(candidate, lookup, extras, options.policy, options.runbooks);
    if (!finding) continue;
    const key = objectLabel(finding.object);
    const known = findings.get(key);
    if (!known) findings.set(key, finding);
    else {
      const [kept, other] = known.confidence >= finding.confidence ? [known, finding] : [finding, known];
      const related = [...new Set([...(kept.related ?? []), ...(other.related ?? []), candidate.key])].filter(
        (label) => label !== key,
      );
      findings.set(key, { ...kept, ...(related.length > 0 ? { related } : {}) });
    }
  }
  return {
    scope: {
      allNamespaces: options.namespaces === undefined,
      ...(options.namespaces ? { namespaces: [...options.namespaces] } : {}),
      ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}),
    },
    findings: [...findings.values()].sort(byPlace),
    checked: inventory.counts(),
    settling,
    apiCalls: reader.calls,
    durationMs: Math.round(performance.now() - started),
    partial: reader.partial,
    notes: [...reader.forbiddenNotes(), ...reader.notes],
  };
}

function byPlace(a: ScanFinding, b: ScanFinding): number {
  // Namespaced objects first (by namespace), cluster-scoped ones (Nodes) last.
  return (
    Number(a.object.namespace === undefined) - Number(b.object.namespace === undefined) ||
    (a.object.namespace ?? '').localeCompare(b.object.namespace ?? '') ||
    a.object.kind.localeCompare(b.object.kind) ||
    a.object.name.localeCompare(b.object.name)
  );
}

/** The second round: ConfigMap key names and pod metrics where candidates are, and their logs. */
async function readExtras(
  reader: ScanReader,
  candidates: readonly Candidate[],
  scope: NamespaceSet,
  tailLines: number,
): Promise<Extras> {
  const configMaps = new Map<string, KubeObject>();
  const metrics = new Map<string, KubeObject>();
  const logs = new Map<string, LiveLog[]>();
  const withPods = candidates.filter((candidate) => candidate.failingPods.length > 0);
  const podNamespaces = namespacesOf(withPods);
  const configNamespaces = namespacesOf(
    withPods.filter((candidate) => candidate.failingPods.some((pod) => configMapNames(pod).length > 0)),
  );
  const nameOf = (item: KubeObject) => `${item.metadata?.namespace ?? ''}/${item.metadata?.name ?? ''}`;
  await Promise.all([
    configNamespaces.length > 0
      ? reader.list('ConfigMap', setFor(configNamespaces, scope), {}, (item) => {
          const kept = slim(item);
          if (kept) configMaps.set(nameOf(kept), kept);
        })
      : undefined,
    podNamespaces.length > 0
      ? reader.list(
          'PodMetrics',
          setFor(podNamespaces, scope),
          {},
          (item) => metrics.set(nameOf(item), { containers: item.containers }),
          { optional: true },
        )
      : undefined,
    ...withPods.flatMap((candidate) =>
      logTargets(candidate).map(async ({ pod, container, current, previous }) => {
        const namespace = pod.metadata?.namespace ?? '';
        const name = pod.metadata?.name ?? '';
        const read = (prev: boolean) =>
          reader.logs(namespace, name, container, { previous: prev, tailLines, limitBytes: 256 * 1024 });
        const [now, before] = await Promise.all([
          current ? read(false) : Promise.resolve(''),
          previous ? read(true) : Promise.resolve(''),
        ]);
        // Each container's own output, current and previous instance apart (log provenance).
        const entry = logs.get(keyOf(pod)) ?? [];
        if (current) entry.push({ namespace, pod: name, container, previous: false, lines: lines(now) });
        if (previous) entry.push({ namespace, pod: name, container, previous: true, lines: lines(before) });
        logs.set(keyOf(pod), entry);
      }),
    ),
  ]);
  return { configMaps, metrics, logs };
}

function namespacesOf(candidates: readonly Candidate[]): string[] {
  return [...new Set(candidates.map((c) => c.owner.namespace).filter((n): n is string => n !== undefined))];
}

/** A few namespaces: one LIST each; more (in an all-namespaces scan): one LIST across the cluster. */
function setFor(namespaces: readonly string[], scope: NamespaceSet): NamespaceSet {
  if (scope.all && namespaces.length > PER_NAMESPACE_LIMIT) return { all: true, only: new Set(namespaces) };
  return { all: false, names: namespaces };
}

/**
 * The containers whose logs can explain a failure: ones that ran and exited or restarted (previous
 * logs), or run without becoming ready (current logs). A container that never started (image pull,
 * configuration, scheduling) has no logs to read.
 */
function logTargets(
  candidate: Candidate,
): Array<{ pod: KubeObject; container: string; current: boolean; previous: boolean }> {
  const out: Array<{ pod: KubeObject; container: string; current: boolean; previous: boolean }> = [];
  for (const pod of candidate.failingPods) {
    for (const status of [
      ...asArray(at(pod, 'status', 'initContainerStatuses')),
      ...asArray(at(pod, 'status', 'containerStatuses')),
    ]) {
      if (out.length >= LOGGED_CONTAINERS) return out;
      const restarts = asNumber(at(status, 'restartCount')) ?? 0;
      const running = at(status, 'state', 'running') !== undefined;
      const exited = at(status, 'state', 'terminated') !== undefined;
      const ready = at(status, 'ready') === true;
      const previous = restarts > 0 && at(status, 'lastState', 'terminated') !== undefined;
      const current = (running && !ready) || exited;
      if (!previous && !current) continue;
      out.push({ pod, container: asString(at(status, 'name')) ?? '', current, previous });
    }
  }
  return out;
}

function lines(text: string): string[] {
  if (!text) return [];
  const out = text.split('\n');
  if (out.at(-1) === '') out.pop();
  return out;
}

/** The rules and the planner on one candidate; undefined when the rules call it healthy. */
function analyzeCandidate(
  candidate: Candidate,
  lookup: Lookup,
  extras: Extras,
  policy: Policy,
  runbooks: PlanInput['runbooks'],
): ScanFinding | undefined {
  const live = candidateContext(candidate, lookup, extras);
  const { owner } = candidate;
  const input: RemediateInput = {
    issue: `kubemend scan: ${objectLabel(owner)} shows a failure: ${candidate.symptoms.slice(0, 3).join('; ')}`,
    target: {
      apiVersion: owner.apiVersion,
      kind: owner.kind,
      name: owner.name,
      ...(owner.namespace ? { namespace: owner.namespace } : {}),
    },
  };
  const rules = analyzeWithRules(contextFromInput(input, { live }));
  if (rules.analysis.category === 'healthy') return undefined;
  const plan = planRemediation({
    finding: rules.finding,
    facts: rules.facts,
    policy,
    requestedMode: 'manual',
    runbooks,
  });
  return toFinding(candidate, rules.analysis, plan.remediation);
}

function toFinding(candidate: Candidate, analysis: Analysis, remediation: Remediation): ScanFinding {
  const object: ActionTarget = analysis.subject ?? {
    apiVersion: candidate.owner.apiVersion,
    kind: candidate.owner.kind,
    name: candidate.owner.name,
    ...(candidate.owner.namespace ? { namespace: candidate.owner.namespace } : {}),
  };
  const related = candidate.related.filter((label) => label !== objectLabel(object));
  const group = candidate.group;
  return {
    object,
    category: analysis.category,
    confidence: analysis.confidence,
    cause: oneLine(analysis.rootCause),
    evidence: analysis.evidence.slice(0, 3),
    ...(group && group.owner.kind !== 'Pod'
      ? { pods: { total: group.pods.length, failing: candidate.failingPods.length } }
      : {}),
    ...(related.length > 0 ? { related } : {}),
    risk: remediation.risk,
    actions: remediation.actions,
    analyze: analyzeCommand(object),
  };
}

/** The first sentence, at most 240 characters. */
function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const end = flat.search(/\.\s/);
  const sentence = end > 0 ? flat.slice(0, end + 1) : flat;
  return sentence.length > 240 ? `${sentence.slice(0, 239)}…` : sentence;
}

/** `kubemend analyze deploy/checkout -n shop`: the command that analyses and can fix one object. */
export function analyzeCommand(object: { kind: string; namespace?: string; name: string }): string {
  const short = KIND_SHORT_NAMES[object.kind as TargetKind] ?? object.kind.toLowerCase();
  return `kubemend analyze ${short}/${object.name}${object.namespace ? ` -n ${object.namespace}` : ''}`;
}
