/**
 * Pods — a whole Pod manifest or a bare PodSpec — normalised into a `PodView`: containers with
 * their resources, ports, probes, env names and status; pods deduplicated by namespace and name.
 */
import {
  asArray,
  asBoolean,
  asNumber,
  asObject,
  asString,
  at,
  type EvidenceOrigin,
  type JsonObject,
  parseCpuMillicores,
  parseMemoryBytes,
} from '../domain/index.js';
import type { ContainerState, ContainerView, PodView, ProbeView } from './model.js';
import { metadataView, normalizeConditions } from './objects.js';

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
    ...metadataView(metadata),
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

export function dedupePods(pods: readonly PodView[]): PodView[] {
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
