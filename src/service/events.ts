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

export type ServiceEvent =
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
    };

export type ServiceEventListener = (event: ServiceEvent) => void;

export class ServiceEvents {
  private readonly listeners = new Set<ServiceEventListener>();

  /** Subscribes; returns the unsubscribe function. */
  on(listener: ServiceEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: ServiceEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // An observer's failure is not the work's.
      }
    }
  }
}
