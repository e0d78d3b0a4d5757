/**
 * What the service tells observers (metrics, and whoever else subscribes) as work ends — from any
 * path: a synchronous request, an asynchronous one, an approval, reconciliation or the shadow
 * observer. The HTTP edge's metrics subscribe here instead of counting only the requests it
 * served itself. A listener that throws is ignored: observing never breaks the work.
 */
import type { ActionType, Category, ExecutionStatus, ShadowOutcome } from '../domain/index.js';

/** How a remediation ended, as the product's targets count it. */
export const REMEDIATION_OUTCOMES = ['fixed', 'rolled-back', 'pending', 'rejected', 'failed'] as const;
export type RemediationOutcome = (typeof REMEDIATION_OUTCOMES)[number];

export type ServiceEvent = (
  | {
      readonly type: 'remediation';
      readonly category: Category;
      readonly outcome: RemediationOutcome;
      /** Seconds from the request to a verified fix (outcome `fixed` only). */
      readonly secondsToFix?: number;
    }
  | { readonly type: 'action'; readonly actionType: ActionType; readonly status: ExecutionStatus }
  | { readonly type: 'rollback'; readonly actionType: ActionType }
  | {
      readonly type: 'shadow';
      readonly category: Category;
      readonly actionType: ActionType;
      readonly outcome: ShadowOutcome;
    }
) & {
  /**
   * The cluster the work was about: the name of its `clusters:` entry, or of the one cluster's
   * context (absent offline). Stamped by the per-cluster view (`forCluster`), not by each emitter.
   */
  readonly cluster?: string;
};

export type ServiceEventListener = (event: ServiceEvent) => void;

export class ServiceEvents {
  constructor(
    private readonly listeners = new Set<ServiceEventListener>(),
    private readonly cluster?: string,
  ) {}

  /** A view on the same listeners whose events carry `cluster` (each cluster's service context). */
  forCluster(cluster: string | undefined): ServiceEvents {
    return cluster === undefined ? this : new ServiceEvents(this.listeners, cluster);
  }

  /** Subscribes; returns the unsubscribe function. */
  on(listener: ServiceEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: ServiceEvent): void {
    const stamped =
      this.cluster === undefined || event.cluster !== undefined ? event : { ...event, cluster: this.cluster };
    for (const listener of this.listeners) {
      try {
        listener(stamped);
      } catch {
        // An observer's failure is not the work's.
      }
    }
  }
}
