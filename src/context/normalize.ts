import {
  asArray,
  asBoolean,
  asNumber,
  asObject,
  asString,
  asStringMap,
  at,
  type EvidenceOrigin,
  type JsonObject,
  type KubernetesEvent,
  parseCpuMillicores,
  parseMemoryBytes,
  parseQuantity,
  type RemediateInput,
} from '../domain/index.js';
import { EMPTY_LOG_SUMMARY, type LogSummary, summarizeLogs } from './log-summary.js';
import type { LiveContext } from './live.js';
import type {
  Condition,
  ContainerState,
  ContainerView,
  GatheringReport,
  IncidentContext,
  KubernetesObject,
  MetricSeries,
  NormalizedEvent,
  ObjectRef,
  OwnerReference,
  PodView,
  ProbeView,
} from './model.js';

export function normalizeEvent(raw: KubernetesEvent | JsonObject, origin: EvidenceOrigin): NormalizedEvent {
  const event = raw as JsonObject;
  const regarding = asObject(event.involvedObject) ?? asObject(event.regarding) ?? {};
  const objectRef: ObjectRef = {
    apiVersion: asString(regarding.apiVersion),
    kind: asString(regarding.kind),
    namespace: asString(regarding.namespace) ?? asString(at(event, 'metadata', 'namespace')),
    name: asString(regarding.name),
    uid: asString(regarding.uid),
    fieldPath: asString(regarding.fieldPath),
  };
  const count =
    asNumber(event.count) ?? asNumber(at(event, 'series', 'count')) ?? asNumber(event.deprecatedCount) ?? 1;
  return {
    type: asString(event.type) ?? 'Normal',
    reason: asString(event.reason) ?? '',
    message: stripCombinedPrefix(asString(event.message) ?? asString(event.note) ?? ''),
    count: Math.max(1, count),
    firstSeen:
      asString(event.firstTimestamp) ?? asString(event.deprecatedFirstTimestamp) ?? asString(event.eventTime),
    lastSeen:
      asString(event.lastTimestamp) ??
      asString(at(event, 'series', 'lastObservedTime')) ??
      asString(event.deprecatedLastTimestamp) ??
      asString(event.eventTime),
    object: objectRef,
    component:
      asString(at(event, 'source', 'component')) ??
      asString(event.reportingController) ??
      asString(event.reportingComponent),
    origin,
  };
}

function stripCombinedPrefix(message: string): string {
  return message.startsWith('(combined from similar events): ')
    ? message.slice('(combined from similar events): '.length)
    : message;
}

/** Merge events that describe the same thing (same object, reason and message); sort oldest first. */
export function dedupeEvents(events: readonly NormalizedEvent[]): NormalizedEvent[] {
  const byKey = new Map<string, NormalizedEvent>();
  for (const event of events) {
    const key = [
      event.object.kind,
      event.object.namespace,
      event.object.name,
      event.reason,
      event.message,
    ].join('\u0000');
    const known = byKey.get(key);
    if (!known) {
      byKey.set(key, event);
      continue;
    }
    byKey.set(key, {
      ...known,
      count: Math.max(known.count, event.count),
      firstSeen: earliest(known.firstSeen, event.firstSeen),
      lastSeen: latest(known.lastSeen, event.lastSeen),
      // Cluster-gathered evidence wins over the caller's copy: it is what the cluster says now.
      origin: known.origin === 'cluster' || event.origin === 'cluster' ? 'cluster' : 'input',
    });
  }
  // Code-unit order (ISO 8601), as `latest` compares: no ICU collation to load in a CLI run.
  const at = (event: NormalizedEvent) => event.lastSeen ?? '';
  return [...byKey.values()].sort((a, b) => Number(at(a) > at(b)) - Number(at(a) < at(b)));
}

function earliest(a?: string, b?: string): string | undefined {
  if (!a) return b;
  if (!b) return a;
  return a < b ? a : b;
}

function latest(a?: string, b?: string): string | undefined {
  if (!a) return b;
  if (!b) return a;
  return a > b ? a : b;
}

function normalizeConditions(value: unknown): Condition[] {
  const out: Condition[] = [];
  for (const entry of asArray(value)) {
    const condition = asObject(entry);
    const type = asString(condition?.type);
    if (!condition || !type) continue;
    out.push({
      type,
      status: asString(condition.status) ?? 'Unknown',
      reason: asString(condition.reason),
      message: asString(condition.message),
      lastTransitionTime: asString(condition.lastTransitionTime),
    });
  }
  return out;
}

function normalizeOwners(value: unknown): OwnerReference[] {
  const out: OwnerReference[] = [];
  for (const entry of asArray(value)) {
    const owner = asObject(entry);
    const kind = asString(owner?.kind);
    const name = asString(owner?.name);
    if (!owner || !kind || !name) continue;
    out.push({
      apiVersion: asString(owner.apiVersion),
      kind,
      name,
      uid: asString(owner.uid),
      controller: asBoolean(owner.controller),
    });
  }
  return out;
}

function normalizeState(value: unknown): ContainerState {
  const state = asObject(value) ?? {};
  const waiting = asObject(state.waiting);
  const running = asObject(state.running);
  const terminated = asObject(state.terminated);
  return {
    waiting: waiting ? { reason: asString(waiting.reason), message: asString(waiting.message) } : undefined,
    running: running ? { startedAt: asString(running.startedAt) } : undefined,
    terminated: terminated
      ? {
          reason: asString(terminated.reason),
          exitCode: asNumber(terminated.exitCode),
          signal: asNumber(terminated.signal),
          message: asString(terminated.message),
          startedAt: asString(terminated.startedAt),
          finishedAt: asString(terminated.finishedAt),
        }
      : undefined,
  };
}

function normalizeProbe(value: unknown): ProbeView | undefined {
  const probe = asObject(value);
  if (!probe) return undefined;
  const httpGet = asObject(probe.httpGet);
  if (httpGet) {
    return {
      raw: probe,
      handler: 'httpGet',
      port: asNumber(httpGet.port) ?? asString(httpGet.port),
      path: asString(httpGet.path),
    };
  }
  const tcp = asObject(probe.tcpSocket);
  if (tcp) return { raw: probe, handler: 'tcpSocket', port: asNumber(tcp.port) ?? asString(tcp.port) };
  if (asObject(probe.grpc)) return { raw: probe, handler: 'grpc', port: asNumber(at(probe, 'grpc', 'port')) };
  if (asObject(probe.exec)) return { raw: probe, handler: 'exec' };
  return { raw: probe, handler: 'unknown' };
}

function normalizeContainer(
  spec: JsonObject,
  init: boolean,
  statuses: Map<string, JsonObject>,
): ContainerView {
  const name = asString(spec.name) ?? '';
  const status = statuses.get(name);
  const ports: Array<{ containerPort: number; name?: string }> = [];
  for (const entry of asArray(spec.ports)) {
    const port = asNumber(at(entry, 'containerPort'));
    if (port !== undefined) ports.push({ containerPort: port, name: asString(at(entry, 'name')) });
  }
  const envNames: string[] = [];
  for (const entry of asArray(spec.env)) {
    const envName = asString(at(entry, 'name'));
    if (envName) envNames.push(envName);
  }
  return {
    name,
    init,
    image: asString(spec.image) ?? asString(status?.image),
    spec,
    limits: {
      memoryBytes: parseMemoryBytes(at(spec, 'resources', 'limits', 'memory')),
      cpuMillicores: parseCpuMillicores(at(spec, 'resources', 'limits', 'cpu')),
    },
    requests: {
      memoryBytes: parseMemoryBytes(at(spec, 'resources', 'requests', 'memory')),
      cpuMillicores: parseCpuMillicores(at(spec, 'resources', 'requests', 'cpu')),
    },
    ports,
    liveness: normalizeProbe(spec.livenessProbe),
    readiness: normalizeProbe(spec.readinessProbe),
    startup: normalizeProbe(spec.startupProbe),
    envNames,
    status: status
      ? {
          ready: asBoolean(status.ready),
          started: asBoolean(status.started),
          restartCount: asNumber(status.restartCount) ?? 0,
          state: normalizeState(status.state),
          lastState: normalizeState(status.lastState),
          image: asString(status.image),
        }
      : undefined,
  };
}

/** Normalise a whole Pod manifest or a bare PodSpec. */
export function normalizePod(raw: JsonObject, origin: EvidenceOrigin): PodView {
  const bareSpec = raw.spec === undefined && raw.containers !== undefined;
  const spec = bareSpec ? raw : (asObject(raw.spec) ?? {});
  const metadata = bareSpec ? {} : (asObject(raw.metadata) ?? {});
  const status = bareSpec ? undefined : asObject(raw.status);
  const statuses = new Map<string, JsonObject>();
  for (const list of [status?.containerStatuses, status?.initContainerStatuses]) {
    for (const entry of asArray(list)) {
      const object = asObject(entry);
      const name = asString(object?.name);
      if (object && name) statuses.set(name, object);
    }
  }
  return {
    name: asString(metadata.name),
    namespace: asString(metadata.namespace),
    labels: asStringMap(metadata.labels),
    annotations: asStringMap(metadata.annotations),
    ownerReferences: normalizeOwners(metadata.ownerReferences),
    nodeName: asString(spec.nodeName),
    phase: asString(status?.phase),
    reason: asString(status?.reason),
    message: asString(status?.message),
    conditions: normalizeConditions(status?.conditions),
    containers: asArray(spec.containers)
      .map(asObject)
      .filter((entry): entry is JsonObject => entry !== undefined)
      .map((entry) => normalizeContainer(entry, false, statuses)),
    initContainers: asArray(spec.initContainers)
      .map(asObject)
      .filter((entry): entry is JsonObject => entry !== undefined)
      .map((entry) => normalizeContainer(entry, true, statuses)),
    spec,
    bareSpec,
    hasStatus: status !== undefined && Object.keys(status).length > 0,
    deleting: asString(metadata.deletionTimestamp) !== undefined,
    origin,
  };
}

export function normalizeObject(raw: JsonObject, origin: EvidenceOrigin): KubernetesObject {
  const metadata = asObject(raw.metadata) ?? {};
  return {
    apiVersion: asString(raw.apiVersion),
    kind: asString(raw.kind) ?? 'Unknown',
    namespace: asString(metadata.namespace),
    name: asString(metadata.name),
    labels: asStringMap(metadata.labels),
    annotations: asStringMap(metadata.annotations),
    ownerReferences: normalizeOwners(metadata.ownerReferences),
    conditions: normalizeConditions(at(raw, 'status', 'conditions')),
    raw,
    origin,
  };
}

export function normalizeMetrics(metrics: Record<string, unknown> | undefined): Map<string, MetricSeries> {
  const out = new Map<string, MetricSeries>();
  if (!metrics) return out;
  for (const [name, value] of Object.entries(metrics)) {
    if (typeof value === 'number') {
      out.set(name, { name, latest: value, max: value, samples: 1 });
    } else if (typeof value === 'string') {
      const parsed = parseQuantity(value);
      out.set(name, { name, latest: parsed, max: parsed, text: value, samples: 1 });
    } else if (Array.isArray(value)) {
      const values = value
        .map((sample) => asNumber(at(sample, 'v')))
        .filter((v): v is number => v !== undefined);
      out.set(name, {
        name,
        latest: values.at(-1),
        max: values.length > 0 ? Math.max(...values) : undefined,
        samples: values.length,
      });
    }
  }
  return out;
}

export interface ContextExtras {
  /** A log summary computed while streaming the input (replaces `context.logs`). */
  readonly logs?: LogSummary;
  readonly previousLogs?: LogSummary;
  readonly gathering?: GatheringReport;
  /** What was read from the live cluster; merged with what the caller sent. */
  readonly live?: LiveContext;
}

export const OFFLINE_GATHERING: GatheringReport = {
  live: false,
  partial: false,
  notes: [],
  apiCalls: 0,
  durationMs: 0,
};

/** Build the context from what the caller sent. */
export function contextFromInput(input: RemediateInput, extras: ContextExtras = {}): IncidentContext {
  const context = input.context ?? {};
  const rawEvents: NormalizedEvent[] = [];
  if (context.event) rawEvents.push(normalizeEvent(context.event, 'input'));
  for (const event of context.relatedEvents ?? []) rawEvents.push(normalizeEvent(event, 'input'));

  const objects: KubernetesObject[] = [];
  const pods: PodView[] = [];
  const live = extras.live;
  // Live state first: when the caller's copy and the cluster disagree, the cluster is current.
  for (const pod of live?.pods ?? []) pods.push(normalizePod(pod as JsonObject, 'cluster'));
  for (const object of live?.objects ?? []) objects.push(normalizeObject(object as JsonObject, 'cluster'));
  for (const event of live?.events ?? []) rawEvents.push(normalizeEvent(event as JsonObject, 'cluster'));
  if (context.podSpec) pods.push(normalizePod(context.podSpec as JsonObject, 'input'));
  for (const resource of context.resources ?? []) {
    const raw = resource as JsonObject;
    if (raw.kind === 'Event') rawEvents.push(normalizeEvent(raw, 'input'));
    else if (raw.kind === 'Pod') pods.push(normalizePod(raw, 'input'));
    else if (raw.kind === 'List' || raw.kind?.toString().endsWith('List')) {
      for (const item of asArray(raw.items)) {
        const itemObject = asObject(item);
        if (!itemObject) continue;
        if (itemObject.kind === 'Pod') pods.push(normalizePod(itemObject, 'input'));
        else if (itemObject.kind === 'Event') rawEvents.push(normalizeEvent(itemObject, 'input'));
        else objects.push(normalizeObject(itemObject, 'input'));
      }
    } else objects.push(normalizeObject(raw, 'input'));
  }

  const callerLogs = extras.logs ?? (context.logs ? summarizeLogs(context.logs) : undefined);
  const liveLogs = live && live.logs.length > 0 ? summarizeLogs(live.logs) : undefined;
  const liveReport = live?.report;
  return {
    issue: input.issue,
    target: input.target,
    events: dedupeEvents(rawEvents),
    pods: dedupePods(pods),
    objects: dedupeObjects(objects),
    metrics: normalizeMetrics({ ...live?.metrics, ...context.metrics }),
    logs: callerLogs ?? liveLogs ?? EMPTY_LOG_SUMMARY,
    previousLogs:
      extras.previousLogs ??
      (live && live.previousLogs.length > 0 ? summarizeLogs(live.previousLogs) : undefined),
    logsOrigin: callerLogs ? 'input' : liveLogs ? 'cluster' : undefined,
    gathering:
      extras.gathering ??
      (liveReport
        ? {
            live: true,
            partial: liveReport.partial,
            notes: liveReport.notes,
            apiCalls: liveReport.apiCalls,
            durationMs: liveReport.durationMs,
          }
        : OFFLINE_GATHERING),
  };
}

function dedupeObjects(objects: readonly KubernetesObject[]): KubernetesObject[] {
  const seen = new Set<string>();
  return objects.filter((object) => {
    if (!object.name) return true;
    const key = `${object.kind}/${object.namespace ?? ''}/${object.name}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function dedupePods(pods: readonly PodView[]): PodView[] {
  const seen = new Set<string>();
  const out: PodView[] = [];
  for (const pod of pods) {
    const key = pod.name ? `${pod.namespace ?? ''}/${pod.name}` : undefined;
    if (key && seen.has(key)) continue;
    if (key) seen.add(key);
    out.push(pod);
  }
  return out;
}
