/**
 * Derived, read-only views over an IncidentContext that many rules share: the pod the incident is
 * about, its owner, warning events, retained log lines, and evidence builders that quote exactly.
 */
import {
  type Evidence,
  type EvidenceOrigin,
  type ObjectReference,
  objectLabel,
  apiVersionOf,
  WORKLOAD_KINDS,
} from '../domain/index.js';
import { type LogLine, retainedLines } from '../context/log-summary.js';
import type {
  Condition,
  LogSource,
  ContainerView,
  IncidentContext,
  KubernetesObject,
  MetricSeries,
  NormalizedEvent,
  PodView,
} from '../context/model.js';
import { resolveObjectOwner, resolvePodOwner, type WorkloadRef } from '../context/owners.js';
import { containerRunsProcess, victimProcess } from '../context/node-processes.js';

import { subjectOf, type SubjectRef } from './finding.js';

/** Events about these kinds concern the workload (its pods' controller), not one pod. */
const WORKLOAD_EVENT_KINDS: ReadonlySet<string> = new Set(WORKLOAD_KINDS);

/** A retained log line and where it came from. */
export type RetainedLine = LogLine & {
  readonly repeats: number;
  /** Output of a container's previous (terminated) instance. */
  readonly previous?: boolean;
  /** Which of `ctx.logStreams` the line belongs to (`index` counts within that stream). */
  readonly stream: number;
  readonly source: LogSource;
  readonly container?: string;
  readonly pod?: string;
  readonly namespace?: string;
  readonly origin: EvidenceOrigin;
};

/**
 * Lines a CI job or a person's terminal writes around kubectl, never a container's own output: a
 * command echoed by the shell or the runner, kubectl's answers, the runner's verdict.
 */
const TOOL_OUTPUT =
  /^\s*(?:\$|\+|>)\s+\S|^(?:Running with gitlab-runner|Executing "step_script"|Cleaning up project directory|ERROR: Job failed|##\[(?:error|group|endgroup|warning)\]|Error: Process completed with exit code|Waiting for (?:deployment|rollout)|error: (?:deployment|timed out waiting for the condition)|Error from server|(?:deployment|service|configmap|secret|pod)[\w.]*\/\S+ (?:configured|created|unchanged|updated|image updated|restarted|rolled back)|\[Pipeline\]|Finished: FAILURE|Build step )/;

export function isToolOutput(line: string): boolean {
  return TOOL_OUTPUT.test(line);
}

export interface ContainerFact {
  readonly pod: PodView;
  readonly container: ContainerView;
}

export class Facts {
  readonly ctx: IncidentContext;
  readonly pods: readonly PodView[];
  readonly primaryPod?: PodView;
  readonly workload?: WorkloadRef;
  readonly namespace?: string;
  readonly events: readonly NormalizedEvent[];
  readonly warnings: readonly NormalizedEvent[];
  /** Every retained line: the caller's, then each container's previous and current output. */
  readonly logLines: readonly RetainedLine[];
  readonly logOrigin: EvidenceOrigin;

  constructor(ctx: IncidentContext) {
    this.ctx = ctx;
    this.pods = ctx.pods.map((pod) => withEventIdentity(pod, ctx.events));
    this.primaryPod = pickPrimaryPod(this.pods, ctx);
    this.events = ctx.events;
    this.warnings = ctx.events.filter((event) => event.type === 'Warning');
    this.namespace =
      this.primaryPod?.namespace ??
      ctx.target?.namespace ??
      ctx.events.find((event) => event.object.namespace)?.object.namespace ??
      ctx.objects.find((object) => object.namespace)?.namespace;
    this.workload = this.primaryPod ? resolvePodOwner(this.primaryPod, ctx.objects) : undefined;
    if (!this.workload && !ctx.target) {
      // No pod: the workload a controller's warning event is about (ReplicaSet → Deployment, Job → CronJob).
      const event = ctx.events.find(
        (e) => e.type === 'Warning' && e.object.name && WORKLOAD_EVENT_KINDS.has(e.object.kind ?? ''),
      );
      if (event?.object.kind && event.object.name) {
        this.workload = resolveObjectOwner(
          event.object.kind,
          event.object.name,
          event.object.namespace ?? this.namespace,
          ctx.objects,
        );
      }
    }
    if (!this.workload && ctx.target && ctx.target.kind !== 'Pod') {
      this.workload = {
        kind: ctx.target.kind,
        apiVersion: ctx.target.apiVersion ?? apiVersionOf(ctx.target.kind),
        name: ctx.target.name,
        namespace: ctx.target.namespace ?? this.namespace,
        via: 'target',
      };
    }
    const rank = (source: LogSource) => (source === 'caller' ? 0 : source === 'container-previous' ? 1 : 2);
    this.logLines = ctx.logStreams
      .map((stream, index) => ({ stream, index }))
      .sort((a, b) => rank(a.stream.source) - rank(b.stream.source) || a.index - b.index)
      .flatMap(({ stream, index }) => {
        // What every line of the stream shares, built once per stream.
        const from = {
          stream: index,
          source: stream.source,
          origin: stream.origin,
          ...(stream.source === 'container-previous' ? { previous: true } : {}),
          ...(stream.container ? { container: stream.container } : {}),
          ...(stream.pod ? { pod: stream.pod } : {}),
          ...(stream.namespace ? { namespace: stream.namespace } : {}),
        };
        return retainedLines(stream.summary).map((line) => ({ ...line, ...from }));
      });
    this.logOrigin = ctx.logsOrigin ?? 'input';
  }

  /** All (pod, container) pairs, regular containers first. */
  containers(): ContainerFact[] {
    const out: ContainerFact[] = [];
    for (const pod of this.pods) {
      for (const container of pod.containers) out.push({ pod, container });
      for (const container of pod.initContainers) out.push({ pod, container });
    }
    return out;
  }

  eventsWithReason(...reasons: string[]): NormalizedEvent[] {
    return this.events.filter((event) => reasons.includes(event.reason));
  }

  eventsMatching(pattern: RegExp, reasons?: readonly string[]): NormalizedEvent[] {
    return this.events.filter(
      (event) => (reasons === undefined || reasons.includes(event.reason)) && pattern.test(event.message),
    );
  }

  findLog(pattern: RegExp): RetainedLine | undefined {
    // Newest evidence first: the last lines before exit explain a crash best.
    for (let index = this.logLines.length - 1; index >= 0; index--) {
      const line = this.logLines[index];
      if (line && pattern.test(line.line)) return line;
    }
    return undefined;
  }

  findLogs(pattern: RegExp): RetainedLine[] {
    return this.logLines.filter((line) => pattern.test(line.line));
  }

  /**
   * The lines that are a container's own output: its current and previous logs and termination
   * messages (of the named container when one is given). When the cluster gave none, the caller's
   * lines stand in — labelled `caller` — except those a CI job or a terminal wrote around kubectl.
   */
  ownLines(container?: string): RetainedLine[] {
    const own = this.logLines.filter(
      (line) => line.source !== 'caller' && (container === undefined || line.container === container),
    );
    if (own.length > 0) return own;
    return this.logLines.filter((line) => line.source === 'caller' && !isToolOutput(line.line));
  }

  /** The newest of a container's own lines (see `ownLines`) that matches. */
  findOwnLog(pattern: RegExp, container?: string): RetainedLine | undefined {
    const lines = this.ownLines(container);
    for (let index = lines.length - 1; index >= 0; index--) {
      const line = lines[index];
      if (line && pattern.test(line.line)) return line;
    }
    return undefined;
  }

  /** Total occurrences (with template repeats) of lines matching the pattern, over every log. */
  countLogs(pattern: RegExp): number {
    let count = 0;
    for (const stream of this.ctx.logStreams) {
      for (const template of stream.summary.templates) {
        if (pattern.test(template.first.line) || pattern.test(template.last.line)) count += template.count;
      }
      for (const line of stream.summary.overflow) if (pattern.test(line.line)) count++;
    }
    return count;
  }

  objectsOfKind(kind: string): KubernetesObject[] {
    return this.ctx.objects.filter((object) => object.kind === kind);
  }

  findObject(kind: string, name: string | undefined): KubernetesObject | undefined {
    if (!name) return undefined;
    return this.ctx.objects.find((object) => object.kind === kind && object.name === name);
  }

  metric(...names: string[]): MetricSeries | undefined {
    for (const name of names) {
      const series = this.ctx.metrics.get(name);
      if (series) return series;
    }
    return undefined;
  }

  podRef(pod: PodView | undefined = this.primaryPod): SubjectRef | undefined {
    if (!pod?.name) return undefined;
    return { kind: 'Pod', apiVersion: 'v1', name: pod.name, namespace: pod.namespace ?? this.namespace };
  }

  workloadRef(): SubjectRef | undefined {
    if (!this.workload) return this.podRef();
    return subjectOf(this.workload, this.namespace);
  }

  /** `Deployment/checkout-api` (or the pod) for root-cause sentences. */
  describeSubject(): string {
    const subject = this.workloadRef();
    if (!subject) return 'the workload';
    const namespace = subject.namespace ? ` in namespace ${subject.namespace}` : '';
    return `${subject.kind} ${subject.name}${namespace}`;
  }
}

/** The process a node-level OOM event names (`SystemOOM`, `OOMKilling`), if any. */
export function nodeOomVictim(
  events: readonly NormalizedEvent[],
): { event: NormalizedEvent; process: string } | undefined {
  for (const event of events) {
    if (event.object.kind !== 'Node' && event.reason !== 'SystemOOM') continue;
    const process = victimProcess(event.message);
    if (process) return { event, process };
  }
  return undefined;
}

function pickPrimaryPod(pods: readonly PodView[], ctx: IncidentContext): PodView | undefined {
  if (ctx.target?.kind === 'Pod') {
    const targeted = pods.find((pod) => pod.name === ctx.target?.name);
    if (targeted) return targeted;
  }
  // A node-level event names a process: the pod whose container runs it is the one it is about.
  const victim = nodeOomVictim(ctx.events);
  if (victim) {
    const runners = pods.filter((pod) =>
      pod.containers.some((container) => containerRunsProcess(container.spec, victim.process)),
    );
    const runner =
      runners.find((pod) => pod.containers.some((c) => (c.status?.restartCount ?? 0) > 0)) ?? runners[0];
    if (runner) return runner;
  }
  const failing = pods.find((pod) =>
    pod.containers.some(
      (container) => container.status?.state.waiting || (container.status?.restartCount ?? 0) > 0,
    ),
  );
  return failing ?? pods[0];
}

/** A bare PodSpec has no name: borrow it from the Pod event's involvedObject. */
function withEventIdentity(pod: PodView, events: readonly NormalizedEvent[]): PodView {
  if (pod.name) return pod;
  const podEvent = events.find((event) => event.object.kind === 'Pod' && event.object.name);
  if (!podEvent) return pod;
  return { ...pod, name: podEvent.object.name, namespace: pod.namespace ?? podEvent.object.namespace };
}

// ---------------------------------------------------------------------------------------------
// Evidence: exact quotes, each tagged with where it came from.

/** The evidence's `object`: none when neither kind nor name is known. */
function evidenceObject(reference: ObjectReference): string | undefined {
  return reference.kind || reference.name ? objectLabel(reference) : undefined;
}

export function eventEvidence(event: NormalizedEvent): Evidence {
  return {
    quote: `${event.reason}: ${event.message}`,
    kind: 'event',
    origin: event.origin,
    object: evidenceObject(event.object),
  };
}

export function statusEvidence(pod: PodView, path: string, value: string | number): Evidence {
  return {
    quote: `${path}: ${value}`,
    kind: 'status',
    origin: pod.origin,
    object: evidenceObject({ kind: 'Pod', namespace: pod.namespace, name: pod.name }),
  };
}

export function conditionEvidence(object: KubernetesObject, condition: Condition): Evidence {
  const detail = [condition.reason, condition.message].filter(Boolean).join(': ');
  return {
    quote: `${object.kind} ${object.name ?? ''} condition ${condition.type}=${condition.status}${detail ? ` (${detail})` : ''}`,
    kind: 'condition',
    origin: object.origin,
    object: evidenceObject(object),
  };
}

/** A log quote, with the source it came from (the caller's logs, or a container's own output). */
export function logEvidence(line: RetainedLine): Evidence {
  return {
    quote: line.line,
    kind: 'log',
    origin: line.origin,
    logSource: line.source,
    ...(line.pod ? { object: objectLabel({ kind: 'Pod', namespace: line.namespace, name: line.pod }) } : {}),
    ...(line.container ? { container: line.container } : {}),
  };
}

/** How a root cause names where a log line came from. */
export function logSourcePhrase(line: RetainedLine): string {
  switch (line.source) {
    case 'caller':
      return 'the logs given with the request';
    case 'container-previous':
      return `the previous output of container ${line.container ?? ''}`.trimEnd();
    default:
      return `the output of container ${line.container ?? ''}`.trimEnd();
  }
}

export function metricEvidence(series: MetricSeries, rendered: string): Evidence {
  return { quote: `${series.name}=${rendered}`, kind: 'metric', origin: 'input' };
}

export function specEvidence(
  object: string | undefined,
  path: string,
  value: string,
  origin: EvidenceOrigin,
): Evidence {
  return { quote: `${path}: ${value}`, kind: 'spec', origin, object };
}

export function containerPath(container: ContainerView, field: string): string {
  const list = container.init ? 'initContainerStatuses' : 'containerStatuses';
  return `status.${list}[${container.name}].${field}`;
}

export function condition(object: { conditions: readonly Condition[] }, type: string): Condition | undefined {
  return object.conditions.find((entry) => entry.type === type);
}

export function percent(ratio: number): string {
  return `${Math.round(ratio * 100)}%`;
}

export function mebibytes(bytes: number): string {
  return `${Math.round(bytes / 1024 / 1024)}Mi`;
}
