/**
 * The normalised incident context every rule reads: events (both Event shapes), pods (a whole Pod
 * or a bare PodSpec), other objects, metrics and a bounded log summary — each piece tagged with
 * where it came from (the caller's input or the live cluster).
 */
import type { EvidenceOrigin, JsonObject, LogSourceName, Target } from '../domain/index.js';
import type { LogSummary } from './log-summary.js';

export interface ObjectRef {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly uid?: string;
  readonly fieldPath?: string;
}

export interface NormalizedEvent {
  readonly type: string;
  readonly reason: string;
  readonly message: string;
  readonly count: number;
  readonly firstSeen?: string;
  readonly lastSeen?: string;
  readonly object: ObjectRef;
  readonly component?: string;
  readonly origin: EvidenceOrigin;
}

export interface ContainerState {
  readonly waiting?: { readonly reason?: string; readonly message?: string };
  readonly running?: { readonly startedAt?: string };
  readonly terminated?: {
    readonly reason?: string;
    readonly exitCode?: number;
    readonly signal?: number;
    readonly message?: string;
    readonly startedAt?: string;
    readonly finishedAt?: string;
  };
}

export interface ContainerStatusView {
  readonly ready?: boolean;
  readonly started?: boolean;
  readonly restartCount: number;
  readonly state: ContainerState;
  readonly lastState: ContainerState;
  readonly image?: string;
}

export interface ProbeView {
  readonly raw: JsonObject;
  readonly handler: 'httpGet' | 'tcpSocket' | 'exec' | 'grpc' | 'unknown';
  readonly port?: number | string;
  readonly path?: string;
}

export interface ContainerView {
  readonly name: string;
  readonly init: boolean;
  readonly image?: string;
  readonly spec: JsonObject;
  readonly limits: { readonly memoryBytes?: number; readonly cpuMillicores?: number };
  readonly requests: { readonly memoryBytes?: number; readonly cpuMillicores?: number };
  readonly ports: ReadonlyArray<{ readonly containerPort: number; readonly name?: string }>;
  readonly liveness?: ProbeView;
  readonly readiness?: ProbeView;
  readonly startup?: ProbeView;
  readonly envNames: readonly string[];
  readonly status?: ContainerStatusView;
}

export interface Condition {
  readonly type: string;
  readonly status: string;
  readonly reason?: string;
  readonly message?: string;
  readonly lastTransitionTime?: string;
}

export interface OwnerReference {
  readonly apiVersion?: string;
  readonly kind: string;
  readonly name: string;
  readonly uid?: string;
  readonly controller?: boolean;
}

export interface PodView {
  readonly name?: string;
  readonly namespace?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly ownerReferences: readonly OwnerReference[];
  readonly nodeName?: string;
  readonly phase?: string;
  readonly reason?: string;
  readonly message?: string;
  readonly conditions: readonly Condition[];
  readonly containers: readonly ContainerView[];
  readonly initContainers: readonly ContainerView[];
  readonly spec: JsonObject;
  /** True when only a PodSpec was given (no metadata or status). */
  readonly bareSpec: boolean;
  readonly hasStatus: boolean;
  readonly deleting: boolean;
  readonly origin: EvidenceOrigin;
}

export interface KubernetesObject {
  readonly apiVersion?: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly ownerReferences: readonly OwnerReference[];
  readonly conditions: readonly Condition[];
  readonly raw: JsonObject;
  readonly origin: EvidenceOrigin;
}

export interface MetricSeries {
  readonly name: string;
  readonly latest?: number;
  readonly max?: number;
  readonly text?: string;
  readonly samples: number;
}

export interface GatheringReport {
  /** Whether the live cluster was consulted. */
  readonly live: boolean;
  /** True when some reads failed or were cut off by the time/call budget. */
  readonly partial: boolean;
  readonly notes: readonly string[];
  readonly apiCalls: number;
  readonly durationMs: number;
  /** Namespaces kubemend may not read (403 on its reads there). */
  readonly denied?: readonly AccessDenial[];
}

/**
 * Where log lines came from: the caller's `context.logs` (any text: a container's output pasted by
 * a person, or a CI job's output), or a container's own output read from the cluster (its current
 * or previous instance; a termination message counts as the output of the instance it ended).
 */
export type LogSource = LogSourceName;

export interface LogStream {
  readonly source: LogSource;
  /** The pod and container the lines belong to (container sources only). */
  readonly pod?: string;
  readonly namespace?: string;
  readonly container?: string;
  /** Read through the API (`cluster`) or given by the caller (`input`). */
  readonly origin: EvidenceOrigin;
  readonly summary: LogSummary;
}

/** A namespace whose live reads the API server refused (403). */
export interface AccessDenial {
  readonly namespace: string;
  /** The reads that were refused, e.g. `list pods`. */
  readonly reads: readonly string[];
  /** Protected by the policy (kubemend is never opted in there), not merely not opted in. */
  readonly protectedByPolicy?: boolean;
  /** kubemend's own user name, when known (`system:serviceaccount:kubemend-system:kubemend`). */
  readonly identity?: string;
}

export interface IncidentContext {
  readonly issue: string;
  readonly target?: Target;
  readonly events: readonly NormalizedEvent[];
  readonly pods: readonly PodView[];
  readonly objects: readonly KubernetesObject[];
  readonly metrics: ReadonlyMap<string, MetricSeries>;
  /** The caller's logs when given, else the containers' current output (kept for summaries). */
  readonly logs: LogSummary;
  readonly previousLogs?: LogSummary;
  /** Where the lines of `logs` came from (the caller, or read from the cluster). */
  readonly logsOrigin?: EvidenceOrigin;
  /** Every log, each with its source: the caller's, and each container's current and previous. */
  readonly logStreams: readonly LogStream[];
  readonly gathering: GatheringReport;
}
