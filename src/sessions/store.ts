/**
 * Sessions: one remediation request and everything that follows from it — input, analysis,
 * actions, approvals bound to a hash of the plan, results — with an explicit state:
 *
 *   analyzed → pending → approved → executing → verified | failed | rolled-back
 *                      ↘ rejected
 *
 * The SessionStore port has two real implementations: SQLite (embedded default) and PostgreSQL
 * (several replicas sharing state). `transition` is an atomic compare-and-set on the state, which
 * is what makes "two concurrent approvals → exactly one execution" hold, across replicas too.
 */
import {
  type ExecutionResult,
  KubemendError,
  type RemediateInput,
  type RemediateOutput,
} from '../domain/index.js';

export const SESSION_STATES = [
  'analyzed',
  'pending',
  'approved',
  'executing',
  'verified',
  'failed',
  'rolled-back',
  'rejected',
] as const;
export type SessionState = (typeof SESSION_STATES)[number];

export const TERMINAL_STATES: readonly SessionState[] = ['verified', 'failed', 'rolled-back', 'rejected'];

export interface Approval {
  readonly approver: string;
  readonly at: string;
  readonly actionIds: readonly string[];
  /** Hash of the plan the approver saw: a changed plan cannot ride on an old approval. */
  readonly planHash: string;
}

export interface Rejection {
  readonly approver: string;
  readonly at: string;
  readonly reason?: string;
}

export interface SessionRecord {
  readonly id: string;
  readonly state: SessionState;
  /** Progress of an asynchronous run: queued, gathering, analyzing, executing, done. */
  readonly phase: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly actor: string;
  /** The request as received (very large log arrays are cut to their summary lines). */
  readonly input: RemediateInput;
  readonly output?: RemediateOutput;
  readonly planHash?: string;
  readonly approvals: readonly Approval[];
  readonly rejection?: Rejection;
  readonly results: readonly ExecutionResult[];
  readonly idempotencyKey?: string;
  /** Hash of the request body, to tell a replay from a different request under the same key. */
  readonly requestHash?: string;
  /** The process that holds the session while it executes (for crash reconciliation). */
  readonly owner?: string;
  /**
   * The cluster the session is about: the name of an entry of `clusters:` in the configuration
   * (absent for a session opened before clusters were named, or offline). Notifications, metrics
   * and audit entries carry it.
   */
  readonly cluster?: string;
  /** Increments on every write (optimistic concurrency for `update`). */
  readonly version: number;
}

export type NewSession = Omit<SessionRecord, 'version' | 'updatedAt'>;
export type SessionChanges = Partial<Omit<SessionRecord, 'id' | 'createdAt' | 'version'>>;

export interface SessionQuery {
  readonly state?: SessionState;
  readonly limit?: number;
}

export interface SessionStore {
  /** Creates the session; fails with `session-conflict` if the id or idempotency key exists. */
  create(session: NewSession): Promise<SessionRecord>;
  get(id: string): Promise<SessionRecord | undefined>;
  findByIdempotencyKey(key: string): Promise<SessionRecord | undefined>;
  /** Writes changes if the stored version is `expectedVersion`; `session-conflict` otherwise. */
  update(id: string, expectedVersion: number, changes: SessionChanges): Promise<SessionRecord>;
  /**
   * Atomically moves the session from one of `from` to `to` (and applies `changes`).
   * Returns undefined when the session is not in one of `from` (someone else moved it first).
   */
  transition(
    id: string,
    from: readonly SessionState[],
    to: SessionState,
    changes?: SessionChanges,
  ): Promise<SessionRecord | undefined>;
  list(query?: SessionQuery): Promise<SessionRecord[]>;
  /** Deletes terminal sessions last updated before `before` (retention). Returns how many. */
  purge(before: string): Promise<number>;
  close(): Promise<void>;
}

/** Why `update(id, expectedVersion)` wrote nothing: the session is gone, or another write came first. */
export function updateRefused(
  id: string,
  expectedVersion: number,
  current: SessionRecord | undefined,
): KubemendError {
  return current === undefined
    ? new KubemendError('session-not-found', `session ${id} does not exist`)
    : new KubemendError(
        'session-conflict',
        `session ${id} was changed concurrently: expected version ${expectedVersion}, found ${current.version}`,
      );
}
