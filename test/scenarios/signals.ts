// Evaluation of a scenario's `signals` against the live cluster. The matching is pure (unit
// tested); the reads go through a ClusterReader (kubectl and client-node in the runner).
import { parseCpuMillicores, parseMemoryBytes } from '../../src/domain/quantity.js';
import type { Matcher, ObjectSignal, Signal } from './schema.js';

export interface ClusterEvent {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  source?: { component?: string; host?: string };
  reportingComponent?: string;
  reportingController?: string;
  involvedObject?: { kind?: string; name?: string; fieldPath?: string };
}

export interface PodMetricsItem {
  metadata: { name: string };
  containers: Array<{ name: string; usage: { cpu: string; memory: string } }>;
}

export interface ClusterReader {
  objects(kind: string, namespace: string, selector?: string): Promise<Array<Record<string, unknown>>>;
  events(namespace: string): Promise<ClusterEvent[]>;
  logs(namespace: string, pod: string, container: string | undefined, previous: boolean): Promise<string>;
  podMetrics(namespace: string, selector: string): Promise<PodMetricsItem[]>;
  /** Prometheus text of every simulated node for a kubelet path. */
  kubeletMetrics(path: string): Promise<string[]>;
}

export interface SignalVerdict {
  readonly ok: boolean;
  readonly detail: string;
}

export function getPath(value: unknown, path: string): unknown {
  let current: unknown = value;
  for (const part of path.split('.')) {
    if (current === null || current === undefined) return undefined;
    if (Array.isArray(current) && /^\d+$/.test(part)) current = current[Number(part)];
    else if (typeof current === 'object') current = (current as Record<string, unknown>)[part];
    else return undefined;
  }
  return current;
}

export function matchValue(matcher: Matcher, value: unknown): boolean {
  if (matcher === null || typeof matcher !== 'object') {
    if (matcher === null) return value === null || value === undefined;
    return value === matcher || (typeof value === 'number' && typeof matcher === 'string' && String(value) === matcher);
  }
  if (matcher.absent) return value === undefined || value === null || (Array.isArray(value) && value.length === 0);
  if (value === undefined) return false;
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (matcher.includes !== undefined) {
    const wanted = Array.isArray(matcher.includes) ? matcher.includes : [matcher.includes];
    if (!wanted.every((part) => text.includes(part))) return false;
  }
  if (matcher.matches !== undefined && !new RegExp(matcher.matches).test(text)) return false;
  if (matcher.gte !== undefined && !(typeof value === 'number' && value >= matcher.gte)) return false;
  if (matcher.lte !== undefined && !(typeof value === 'number' && value <= matcher.lte)) return false;
  if (matcher.oneOf !== undefined && !matcher.oneOf.some((candidate) => candidate === value)) return false;
  return true;
}

function matchAll(tests: Record<string, Matcher> | undefined, subject: unknown): boolean {
  return Object.entries(tests ?? {}).every(([path, matcher]) => matchValue(matcher, getPath(subject, path)));
}

const includesAll = (text: string | undefined, parts: string | string[] | undefined): boolean =>
  parts === undefined || (Array.isArray(parts) ? parts : [parts]).every((part) => (text ?? '').includes(part));

/** Does one object satisfy an object signal's fields, containerStatus and condition tests? */
export function objectSatisfies(signal: ObjectSignal, object: Record<string, unknown>): boolean {
  if (!matchAll(signal.fields, object)) return false;
  if (signal.containerStatus) {
    const statuses = [
      ...((getPath(object, 'status.initContainerStatuses') as unknown[] | undefined) ?? []),
      ...((getPath(object, 'status.containerStatuses') as unknown[] | undefined) ?? []),
    ];
    if (!statuses.some((status) => matchAll(signal.containerStatus, status))) return false;
  }
  if (signal.condition) {
    const { type, status, reason, messageIncludes } = signal.condition;
    const conditions = (getPath(object, 'status.conditions') as Array<Record<string, string>> | undefined) ?? [];
    const found = conditions.find((c) => c['type'] === type);
    if (!found) return false;
    if (status !== undefined && found['status'] !== status) return false;
    if (reason !== undefined && found['reason'] !== reason) return false;
    if (!includesAll(found['message'], messageIncludes)) return false;
  }
  return true;
}

export function selectObjects(signal: ObjectSignal, objects: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  return objects.filter((object) => {
    const name = String(getPath(object, 'metadata.name') ?? '');
    if (signal.name !== undefined && name !== signal.name) return false;
    if (signal.namePrefix !== undefined && !name.startsWith(signal.namePrefix)) return false;
    return true;
  });
}

export function evaluateObjects(signal: ObjectSignal, objects: Array<Record<string, unknown>>): SignalVerdict {
  const selected = selectObjects(signal, objects);
  const { min = 1, max } = signal.count ?? {};
  if (selected.length < min) return { ok: false, detail: `${selected.length} object(s) found, at least ${min} expected` };
  if (max !== undefined && selected.length > max) return { ok: false, detail: `${selected.length} object(s) found, at most ${max} expected` };
  const satisfying = selected.filter((object) => objectSatisfies(signal, object));
  const ok = signal.every ? satisfying.length === selected.length : satisfying.length > 0 || (selected.length === 0 && min === 0);
  return { ok, detail: `${satisfying.length}/${selected.length} object(s) match` };
}

export function eventComponent(event: ClusterEvent): string {
  return event.source?.component || event.reportingComponent || event.reportingController || '';
}

export function eventSatisfies(spec: Extract<Signal, { event: unknown }>['event'], event: ClusterEvent): boolean {
  if (event.reason !== spec.reason) return false;
  if (spec.type !== undefined && event.type !== spec.type) return false;
  if (!includesAll(event.message, spec.messageIncludes)) return false;
  if (spec.messageMatches !== undefined && !new RegExp(spec.messageMatches).test(event.message ?? '')) return false;
  if (spec.component !== undefined && eventComponent(event) !== spec.component) return false;
  if (spec.involvedKind !== undefined && event.involvedObject?.kind !== spec.involvedKind) return false;
  if (spec.involvedNamePrefix !== undefined && !(event.involvedObject?.name ?? '').startsWith(spec.involvedNamePrefix)) return false;
  if (spec.fieldPath !== undefined && event.involvedObject?.fieldPath !== spec.fieldPath) return false;
  if (spec.minCount !== undefined && (event.count ?? 1) < spec.minCount) return false;
  return true;
}

/** Prometheus text exposition → samples (name, labels, value). */
export function parsePrometheus(text: string): Array<{ name: string; labels: Record<string, string>; value: number }> {
  const samples: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] ?? ''] = (pair[2] ?? '').replace(/\\(.)/g, '$1');
    samples.push({ name: match[1] ?? '', labels, value: Number(match[3]) });
  }
  return samples;
}

export function describeSignal(signal: Signal): string {
  if ('event' in signal) {
    const e = signal.event;
    return `event ${e.type ? `${e.type} ` : ''}${e.reason}${e.messageIncludes ? ` "${[e.messageIncludes].flat().join('" "')}"` : ''}`;
  }
  if ('logs' in signal) return `${signal.logs.previous ? 'previous ' : ''}logs of ${signal.logs.selector} include "${signal.logs.includes}"`;
  if ('podMetrics' in signal) return `metrics.k8s.io usage of ${signal.podMetrics.selector}`;
  if ('kubeletMetric' in signal) return `kubelet ${signal.kubeletMetric.path} ${signal.kubeletMetric.metric}`;
  const target = signal.name ?? (signal.namePrefix ? `${signal.namePrefix}*` : signal.selector ?? '*');
  const tests = [
    ...Object.entries(signal.fields ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`),
    ...Object.entries(signal.containerStatus ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`),
    ...(signal.condition ? [`${signal.condition.type}=${signal.condition.status ?? '*'}${signal.condition.reason ? `/${signal.condition.reason}` : ''}`] : []),
  ];
  return `${signal.object} ${target}${tests.length ? ` ${tests.join(' ')}` : ''}`;
}

export async function evaluateSignal(signal: Signal, namespace: string, reader: ClusterReader): Promise<SignalVerdict> {
  if ('event' in signal) {
    const events = await reader.events(signal.event.namespace ?? namespace);
    const same = events.filter((e) => e.reason === signal.event.reason);
    const hit = events.find((e) => eventSatisfies(signal.event, e));
    return hit
      ? { ok: true, detail: `${hit.reason}: ${hit.message}` }
      : { ok: false, detail: same.length ? `closest: ${same.map((e) => `"${e.message}" (x${e.count ?? 1})`).slice(0, 3).join('; ')}` : `no ${signal.event.reason} event` };
  }
  if ('logs' in signal) {
    const { selector, container, previous, includes } = signal.logs;
    const ns = signal.logs.namespace ?? namespace;
    const pods = await reader.objects('pod', ns, selector);
    const errors: string[] = [];
    for (const pod of pods) {
      try {
        const text = await reader.logs(ns, String(getPath(pod, 'metadata.name')), container, previous);
        if (text.includes(includes)) return { ok: true, detail: `found in ${String(getPath(pod, 'metadata.name'))}` };
      } catch (error) {
        errors.push(error instanceof Error ? error.message : String(error));
      }
    }
    return { ok: false, detail: errors[0] ?? `not in the logs of ${pods.length} pod(s)` };
  }
  if ('podMetrics' in signal) {
    const { selector, container, cpuMillicores, memoryBytes } = signal.podMetrics;
    const items = await reader.podMetrics(signal.podMetrics.namespace ?? namespace, selector);
    for (const item of items) {
      for (const c of item.containers) {
        if (container !== undefined && c.name !== container) continue;
        const cpu = parseCpuMillicores(c.usage.cpu);
        const memory = parseMemoryBytes(c.usage.memory);
        if ((cpuMillicores === undefined || matchValue(cpuMillicores, cpu)) && (memoryBytes === undefined || matchValue(memoryBytes, memory))) {
          return { ok: true, detail: `${item.metadata.name}/${c.name}: cpu ${c.usage.cpu}, memory ${c.usage.memory}` };
        }
      }
    }
    return { ok: false, detail: `${items.length} PodMetrics, none matching` };
  }
  if ('kubeletMetric' in signal) {
    const { path, metric, labels, value } = signal.kubeletMetric;
    const scopedLabels = { namespace, ...labels };
    const texts = await reader.kubeletMetrics(path);
    const samples = texts.flatMap(parsePrometheus).filter((s) => s.name === metric && Object.entries(scopedLabels).every(([k, v]) => s.labels[k] === v));
    const hit = samples.find((s) => matchValue(value, s.value));
    return hit ? { ok: true, detail: `${metric} = ${hit.value}` } : { ok: false, detail: `${samples.length} sample(s) of ${metric}, none matching` };
  }
  const objects = await reader.objects(signal.object, signal.namespace ?? namespace, signal.selector);
  return evaluateObjects(signal, objects);
}
