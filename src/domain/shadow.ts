/**
 * What a shadow session keeps (ADR 0035): per action the policy would have executed, the object
 * before and as the server-side dry-run said it would be, and — once the observation window is
 * over or a person changed the object — what really happened. Stored on the session
 * (`SessionRecord.shadow`) as typed records other parts (reports, runbooks learning from outcomes)
 * read without parsing messages.
 */
import type { ActionType, Category, ShadowOutcome } from './vocabulary.js';

/** One changed field of a proposal: where, the value before, the value proposed, the value seen. */
export interface ShadowFieldChange {
  /** Dotted path, array indices as numbers: `spec.template.spec.containers.0.resources.limits.memory`. */
  readonly path: string;
  readonly before?: unknown;
  readonly proposed?: unknown;
  /** What the object held when the outcome was decided. */
  readonly observed?: unknown;
}

export interface ShadowAction {
  readonly actionId: string;
  readonly type: ActionType;
  /** `Kind/namespace/name` of the target. */
  readonly target: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  /** Whether the API server's dry-run accepted the change. */
  readonly dryRun: 'passed' | 'failed';
  readonly message: string;
  /** The object before (bounded view: identity, labels, annotations, spec, data). */
  readonly before?: Record<string, unknown>;
  /** The object as the dry-run said it would be (same bounded view). */
  readonly after?: Record<string, unknown>;
  /** Set when the observation ended: what happened to this action's target. */
  readonly outcome?: ShadowOutcome;
  /** The fields the proposal changes, with what was observed. */
  readonly fields?: readonly ShadowFieldChange[];
  /** Field managers (managedFields) that changed the object during the window. */
  readonly changedBy?: readonly string[];
}

export interface ShadowObservation {
  readonly category: Category;
  readonly startedAt: string;
  readonly windowEndsAt: string;
  readonly actions: readonly ShadowAction[];
  /** Set when the observation ended (session state `observed`). */
  readonly outcome?: ShadowOutcome;
  readonly observedAt?: string;
  /** In words: why this outcome. */
  readonly detail?: string;
}
