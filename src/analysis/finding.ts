import type { Category, Evidence } from '../domain/index.js';
import type { WorkloadRef } from '../context/owners.js';

export interface SubjectRef {
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
  readonly apiVersion?: string;
}

/** A workload as the subject of a finding; `namespace` fills in when the reference has none. */
export function subjectOf(workload: WorkloadRef, namespace?: string): SubjectRef {
  return {
    kind: workload.kind,
    apiVersion: workload.apiVersion,
    name: workload.name,
    namespace: workload.namespace ?? namespace,
  };
}

/** What a rule learned, beyond the category: the facts action builders need. */
export interface FindingDetails {
  readonly container?: string;
  readonly workload?: WorkloadRef;
  readonly pod?: SubjectRef;
  // resources
  readonly memoryLimitBytes?: number;
  readonly memoryRequestBytes?: number;
  readonly observedMemoryBytes?: number;
  readonly cpuLimitMillicores?: number;
  readonly cpuRequestMillicores?: number;
  readonly observedCpuMillicores?: number;
  readonly throttledRatio?: number;
  readonly resource?: string;
  /** The ephemeral-storage limit a container exceeded (`1Gi`). */
  readonly storageLimit?: string;
  // revisions
  readonly rollbackToRevision?: number;
  readonly currentRevision?: number;
  readonly revisionChange?: string;
  /** Why the revision to roll back to is believed good (ready pods); no rollback without it. */
  readonly goodRevisionEvidence?: string;
  readonly previousImage?: string;
  /** "Did you mean": a known image (healthy revision, other pods) a tag typo most likely meant. */
  readonly suggestedImage?: string;
  /** "Did you mean": the command a healthy revision runs, close to the one that is not found. */
  readonly suggestedCommand?: string;
  /** The executable the runtime or the shell could not find. */
  readonly executable?: string;
  /** A configuration file that does not parse: its path, the line and key the program names. */
  readonly configFile?: { readonly path: string; readonly line?: number; readonly named?: string };
  // images
  readonly image?: string;
  readonly pullError?: string;
  // probes
  readonly probe?: 'liveness' | 'readiness' | 'startup';
  readonly probeFailure?: 'connection-refused' | 'http-status' | 'timeout' | 'exec' | 'other';
  readonly probePort?: number | string;
  readonly probePath?: string;
  readonly suggestedPort?: number;
  readonly suggestedPath?: string;
  readonly suggestedScheme?: 'HTTPS';
  /** An environment variable holding the credential an exec probe must use. */
  readonly authEnv?: string;
  readonly httpStatus?: number;
  // config
  readonly missingEnv?: string;
  readonly configKind?: 'ConfigMap' | 'Secret' | 'ServiceAccount';
  readonly configName?: string;
  readonly configKey?: string;
  readonly suggestedConfigName?: string;
  // scheduling
  readonly nodeSelectorKey?: string;
  readonly nodeSelectorValue?: string;
  readonly suggestedSelectorValue?: string;
  readonly taint?: { readonly key: string; readonly value?: string; readonly effect?: string };
  readonly nodeName?: string;
  readonly placementRule?: 'pod-anti-affinity' | 'topology-spread';
  // quota
  readonly quotaName?: string;
  readonly hpaProblem?: 'at-max' | 'missing-request' | 'metrics-unavailable';
  // service
  readonly service?: SubjectRef;
  readonly selectorFix?: Readonly<Record<string, string>>;
  readonly servicePortIndex?: number;
  // hpa
  readonly hpa?: SubjectRef;
  readonly maxReplicas?: number;
  readonly desiredReplicas?: number;
  // rbac
  readonly serviceAccount?: string;
  readonly serviceAccountNamespace?: string;
  readonly rbac?: {
    readonly verb: string;
    readonly resource: string;
    readonly apiGroup: string;
    readonly namespace?: string;
  };
  // security context
  readonly securityProblem?: 'run-as-root' | 'non-numeric-user' | 'pod-security' | 'filesystem';
  readonly podSecurityChecks?: readonly string[];
  readonly writablePath?: string;
  readonly readOnlyFilesystem?: boolean;
  // volumes
  readonly claimName?: string;
  readonly storageClass?: string;
  // dependency
  readonly dependency?: string;
  /** A host name in the configuration that points at the wrong place, and the corrected one. */
  readonly hostFix?: { readonly from: string; readonly to: string };
  // crash
  readonly exitCode?: number;
  readonly crashLine?: string;
  // heap (a runtime's own out-of-memory, not the kernel's)
  readonly heapExhausted?: boolean;
}

export interface Finding {
  readonly category: Category;
  /** 0..1, calibrated: high only when the signals are unambiguous. */
  readonly confidence: number;
  readonly rootCause: string;
  readonly factors: readonly string[];
  readonly evidence: readonly Evidence[];
  readonly subject?: SubjectRef;
  readonly details: FindingDetails;
}

/** Confidence levels used by the rules, so that calibration is consistent across categories. */
export const CONFIDENCE = {
  /** An authoritative status field and a matching event or message agree. */
  certain: 0.95,
  /** One authoritative signal (a status reason, an event reason with a specific message). */
  strong: 0.9,
  /** A specific signal with a plausible alternative. */
  good: 0.8,
  /** Indirect but consistent signals (logs, metrics). */
  moderate: 0.65,
  /** A weak signal; other causes are likely. */
  weak: 0.45,
  /** Nothing but a hint. */
  guess: 0.25,
} as const;
