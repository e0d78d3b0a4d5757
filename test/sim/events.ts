// core/v1 Events as the kubelet's recorder writes them: source kubelet/<node>, reportingComponent
// kubelet, reportingInstance <node>, name `<object>.<hex nanoseconds>`, and repeats aggregated
// into `count` and `lastTimestamp` (the event correlator's behaviour).
import type { CoreV1Api, CoreV1Event, V1ObjectReference } from '@kubernetes/client-node';
import * as k8s from '@kubernetes/client-node';
import { rfc3339 } from './pod-machine.js';

export interface EventSpec {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
  readonly involvedObject: V1ObjectReference;
}

export interface EventSource {
  readonly component: string;
  readonly host?: string;
}

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

/** Builds the Event object the kubelet would create. Pure; exported for tests. */
export function buildEvent(spec: EventSpec, source: EventSource, now: number, sequence: number): CoreV1Event {
  const namespace = spec.involvedObject.namespace ?? 'default';
  const nanos = BigInt(now) * 1_000_000n + BigInt(sequence % 1_000_000);
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: `${spec.involvedObject.name}.${nanos.toString(16)}`, namespace },
    involvedObject: spec.involvedObject,
    reason: spec.reason,
    message: spec.message,
    type: spec.type,
    source: { component: source.component, ...(source.host ? { host: source.host } : {}) },
    reportingComponent: source.component,
    reportingInstance: source.host ?? '',
    firstTimestamp: rfc3339(now) as unknown as Date,
    lastTimestamp: rfc3339(now) as unknown as Date,
    count: 1,
  };
}

export function aggregationKey(spec: EventSpec, source: EventSource): string {
  const o = spec.involvedObject;
  return [
    source.component,
    source.host,
    o.kind,
    o.namespace,
    o.name,
    o.uid,
    o.apiVersion,
    o.fieldPath,
    spec.type,
    spec.reason,
    spec.message,
  ].join('\u0000');
}

/** Writes events in order, aggregating repeats. Failures are logged, never thrown. */
export class EventRecorder {
  private readonly seen = new Map<string, { name: string; namespace: string; count: number }>();
  private sequence = 0;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly core: CoreV1Api,
    private readonly source: EventSource,
    private readonly log: (message: string) => void,
  ) {}

  record(spec: EventSpec): Promise<void> {
    const now = Date.now();
    const key = aggregationKey(spec, this.source);
    const sequence = this.sequence++;
    this.queue = this.queue.then(async () => {
      try {
        const existing = this.seen.get(key);
        if (existing) {
          existing.count += 1;
          await this.core.patchNamespacedEvent(
            {
              name: existing.name,
              namespace: existing.namespace,
              body: { count: existing.count, lastTimestamp: rfc3339(now) },
            },
            mergePatch,
          );
          return;
        }
        const body = buildEvent(spec, this.source, now, sequence);
        await this.core.createNamespacedEvent({ namespace: body.metadata?.namespace ?? 'default', body });
        this.seen.set(key, {
          name: body.metadata?.name ?? '',
          namespace: body.metadata?.namespace ?? '',
          count: 1,
        });
        if (this.seen.size > 20_000) this.seen.delete(this.seen.keys().next().value as string);
      } catch (error) {
        const status = error instanceof k8s.ApiException ? error.code : undefined;
        // 404: the namespace or the aggregated event is gone; forget it so the next one is created anew.
        if (status === 404) this.seen.delete(key);
        else if (status !== 403)
          this.log(`event ${spec.reason} for ${spec.involvedObject.name}: ${describeError(error)}`);
      }
    });
    return this.queue;
  }

  /** Drops aggregation state of one object (it was deleted). */
  forget(uid: string): void {
    for (const key of this.seen.keys()) if (key.includes(`\u0000${uid}\u0000`)) this.seen.delete(key);
  }

  flushed(): Promise<void> {
    return this.queue;
  }
}

export function describeError(error: unknown): string {
  if (error instanceof k8s.ApiException) {
    const body = typeof error.body === 'string' ? error.body : JSON.stringify(error.body);
    return `HTTP ${error.code}: ${body.slice(0, 300)}`;
  }
  return error instanceof Error ? error.message : String(error);
}
