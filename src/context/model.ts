/**
 * The normalised incident context every rule reads: events (both Event shapes), pods (a whole Pod
 * or a bare PodSpec), other objects, metrics and a bounded log summary — each piece tagged with
 * where it came from (the caller's input or the live cluster).
 */
import type { EvidenceOrigin, JsonObject, Target } from '../domain/index.js';
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
}

export interface IncidentContext {
  readonly issue: string;
  readonly target?: Target;
  readonly events: readonly NormalizedEvent[];
  readonly pods: readonly PodView[];
  readonly objects: readonly KubernetesObject[];
  readonly metrics: ReadonlyMap<string, MetricSeries>;
  readonly logs: LogSummary;
  readonly previousLogs?: LogSummary;
  /** Where the log lines came from (the caller, or read from the cluster). */
  readonly logsOrigin?: EvidenceOrigin;
  readonly gathering: GatheringReport;
}
