/**
 * Events in both shapes (core/v1 `involvedObject`, events.k8s.io/v1 `regarding`/`note`/`series`)
 * normalised into one `NormalizedEvent`, and merged when they describe the same thing.
 */
import {
  asNumber,
  asObject,
  asString,
  at,
  type EvidenceOrigin,
  type JsonObject,
  type KubernetesEvent,
} from '../domain/index.js';
import type { NormalizedEvent, ObjectRef } from './model.js';

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
