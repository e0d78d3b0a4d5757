/**
 * What the service's modules share: the validated dependencies, the stores, the per-target locks,
 * the rate guard, the clock and this instance's identity. Built once by `RemediationService`;
 * nothing in it belongs to one request.
 */
import type { AuditRecorder } from '../audit/recorder.js';
import type { ClusterGateway } from '../cluster/gateway.js';
import { type Configuration, LOG_LEVELS } from '../config/configuration.js';

type LogLevel = (typeof LOG_LEVELS)[number];
import type { PolicySet } from '../config/policies.js';
import type { ClusterDirectory } from '../cluster/registry.js';
import type { TargetLocks } from '../execution/locks.js';
import type { SessionRecord, SessionStore } from '../sessions/store.js';
import type { AiIntegration } from './analyze.js';
import type { ExecutionLease } from './execution-lease.js';
import type { AuditIntegrity } from './audit-integrity.js';
import type { ActionRateGuard } from './rate-guard.js';
import type { ServiceEvents } from './events.js';

export interface ServiceDependencies {
  readonly configuration: Configuration;
  readonly policies: PolicySet;
  /** The cluster, when one is reachable; absent means offline. */
  readonly cluster?: ClusterGateway;
  /**
   * The name of `cluster` (its kubeconfig context, or its entry in `clusters:`): stamped on every
   * session and audit record. Absent offline.
   */
  readonly clusterName?: string;
  /**
   * Several clusters (`clusters:`): requests name theirs in `cluster`; each gets its own gateway,
   * circuit breaker and policies (`clusterPolicies`). `cluster` and `clusterName` are then unused.
   */
  readonly clusters?: ClusterDirectory;
  /** Each configured cluster's policies, by name (default: `policies`). */
  readonly clusterPolicies?: ReadonlyMap<string, PolicySet>;
  /** The audit log: must be `sessions.audit` when both are given (one database, one transaction). */
  readonly audit?: AuditRecorder;
  readonly sessions?: SessionStore;
  readonly ai?: AiIntegration;
  readonly locks?: TargetLocks;
  /** Who acts when the caller does not say (recorded in the audit log). */
  readonly actor?: string;
  /** This process, as recorded on sessions it executes (for crash reconciliation). */
  readonly instanceId?: string;
  readonly clock?: () => Date;
  readonly newId?: () => string;
  /** Execution engine tuning (tests shorten the stability window). */
  readonly engine?: { readonly pollIntervalMs?: number; readonly stabilityMs?: number };
  /** Scan tuning (tests shorten how long a new object is left to settle before it is judged). */
  readonly scan?: { readonly settleMs?: number };
  /** Where work nobody waits for reports (default: standard error). */
  readonly logger?: ServiceLogger;
}

/** A pino-shaped logger (fastify's `app.log` is one): a detail object, then the message. */
export interface ServiceLogger {
  info(detail: Record<string, unknown>, message: string): void;
  warn(detail: Record<string, unknown>, message: string): void;
  error(detail: Record<string, unknown>, message: string): void;
}

export interface ServiceContext {
  readonly dependencies: ServiceDependencies;
  /** The session store's audit log (`sessions.audit`). */
  readonly audit: AuditRecorder;
  readonly sessions: SessionStore;
  readonly locks: TargetLocks;
  readonly rate: ActionRateGuard;
  readonly clock: () => Date;
  readonly instanceId: string;
  /** How long an executing session's owner may stay silent before another instance takes over. */
  readonly leaseMs: number;
  /** The executions this instance is running now (handed over if it stops before they end). */
  readonly leases: Set<ExecutionLease>;
  /** Whether the audit chain holds; refuses executions while it is broken (per configuration). */
  readonly integrity: AuditIntegrity;
  /**
   * Sessions this process is working on now (analysing or executing): reconciliation leaves them
   * alone whatever their lease says, and settles this process's other unfinished sessions.
   */
  readonly inFlight: Set<string>;
  /** Where finished work is announced (metrics subscribe). */
  readonly events: ServiceEvents;
  /** The connected cluster, unless the configuration says offline. */
  cluster(): ClusterGateway | undefined;
  /** The name of that cluster (stamped on sessions; audit records carry it in `detail.cluster`). */
  readonly clusterName?: string;
  /** Is this session about this context's cluster (sessions without a cluster are the default's)? */
  owns(session: SessionRecord): boolean;
  /** The same cluster for analysis: identical reads in flight at once share one API call. */
  analysisCluster(): ClusterGateway | undefined;
  now(): string;
  /** The caller's actor, or the service's default. */
  actorOf(options?: { actor?: string }): string;
}

/** One line per report on standard error: `kubemend: message (key=value …)`. */
export function stderrLogger(
  level: LogLevel = 'info',
  write: (line: string) => void = (line) => process.stderr.write(line),
): ServiceLogger {
  // LOG_LEVELS runs from most to least severe; `silent` writes nothing.
  const limit = level === 'silent' ? -1 : LOG_LEVELS.indexOf(level);
  const at = (severity: 'info' | 'warn' | 'error') => (detail: Record<string, unknown>, message: string) => {
    if (LOG_LEVELS.indexOf(severity) > limit) return;
    const fields = Object.entries(detail)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => `${key}=${value instanceof Error ? value.message : String(value)}`);
    write(`kubemend: ${message}${fields.length > 0 ? ` (${fields.join(', ')})` : ''}\n`);
  };
  return { info: at('info'), warn: at('warn'), error: at('error') };
}
