/**
 * Sessions: one remediation request and everything that follows from it — input, analysis,
 * actions, approvals bound to a hash of the plan, results — with an explicit state:
 *
 *   analyzed → pending → approved → executing → verified | failed | rolled-back
 *                      ↘ rejected
 *
 * A shadow session (ADR 0035) never applies anything: analyzed → executing (server-side dry-runs
 * only) → observing (the target is watched for `shadow.window`) → observed (`shadow.outcome`).
 *
 * The SessionStore port has two real implementations: SQLite (embedded default) and PostgreSQL
 * (several replicas sharing state). `transition` is an atomic compare-and-set on the state, which
 * is what makes "two concurrent approvals → exactly one execution" hold, across replicas too.
 *
 * A store keeps its audit log in the same database (`audit`), and every write takes the audit
 * records that go with it (`WriteOptions.audit`): the change and its records commit in ONE
 * transaction, or neither does. A state change without its audit record cannot happen.
 */
import type { McpSessionRecords } from './mcp-session-records.js';
import {
  type ExecutionResult,
  KubemendError,
  type RemediateInput,
  type RemediateOutput,
  type ShadowObservation,
} from '../domain/index.js';
import type { AuditEntry, AuditRecorder } from '../audit/recorder.js';
import type { AlertIncidentEntry, AlertIncidentStore, OutboxEntry, OutboxStore } from './companions.js';
import type { OutcomeQuery, OutcomeRecord } from '../learning/history.js';

export const SESSION_STATES = [
  'analyzed',
  'pending',
  'approved',
  'executing',
  'verified',
  'failed',
  'rolled-back',
  'rejected',
  'observing',
  'observed',
] as const;
export type SessionState = (typeof SESSION_STATES)[number];

/**
 * The states migration 1 created the tables with: frozen, so a new database goes through the same
 * steps as an old one (migration 4 widens the list for shadow sessions).
 */
export const FIRST_SESSION_STATES: readonly SessionState[] = SESSION_STATES.slice(0, 8);

/** A list of states as SQL string literals (`'a', 'b'`), for the migrations' CHECK constraints. */
export function sqlList(states: readonly SessionState[]): string {
  return states.map((state) => `'${state}'`).join(', ');
}

export const TERMINAL_STATES: readonly SessionState[] = [
  'verified',
  'failed',
  'rolled-back',
  'rejected',
  'observed',
];

export interface Approval {
  readonly approver: string;
  readonly at: string;
  readonly actionIds: readonly string[];
  /** Hash of the plan the approver saw: a changed plan cannot ride on an old approval. */
  readonly planHash: string;
  /** What the approver noted, if anything. */
  readonly note?: string;
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
  /** A shadow session's proposals, dry-run objects and, once observed, what happened (ADR 0035). */
  readonly shadow?: ShadowObservation;
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
  /** Any of these states (an empty list matches nothing); with `state`, both must hold. */
  readonly states?: readonly SessionState[];
  /** Sessions whose namespace (see `sessionNamespace`) is this one. */
  readonly namespace?: string;
  /** Sessions whose analysis found this category. */
  readonly category?: string;
  /**
   * Keyset pagination: only sessions after this one in the list order (newest first:
   * `createdAt` descending, then `id` descending), i.e. the last session of the previous page.
   */
  readonly after?: SessionCursor;
  /** Only sessions whose work is not done (phase other than `done`). */
  readonly unfinished?: boolean;
  readonly limit?: number;
}

/** What a report reads of a session. */
export type ReportedSession = Pick<
  SessionRecord,
  'id' | 'state' | 'createdAt' | 'updatedAt' | 'approvals' | 'output' | 'shadow'
>;

/** Sessions created in [from, to) — the report's range — oldest first, at most `limit`. */
export interface CreatedRange {
  readonly from?: string;
  readonly to?: string;
  readonly limit: number;
}

export interface WriteOptions {
  /**
   * Audit records written in the same transaction as the change, in order, only if the change is
   * made. If they cannot be written (`audit-unavailable`), the change is not made either.
   */
  readonly audit?: readonly AuditEntry[];
  /** Notifications the change owes its sinks (one row per sink; a repeat of the same event is ignored). */
  readonly outbox?: readonly OutboxEntry[];
  /** The incident row of the alert that opens this session (`create` only; a duplicate fails the create). */
  readonly alertIncident?: AlertIncidentEntry;
  /**
   * Outcome history records (docs/learning.md) written in the same transaction as the change, only
   * if the change is made.
   */
  readonly outcomes?: readonly OutcomeRecord[];
}

/** Where a page of `list` ends: the last session's `createdAt` and `id`. */
export interface SessionCursor {
  readonly createdAt: string;
  readonly id: string;
}

/**
 * A session's namespace, as `list({ namespace })` filters it: the namespace of the object the
 * analysis found the cause on, else the namespace the request targeted.
 */
export function sessionNamespace(session: Pick<SessionRecord, 'input' | 'output'>): string | undefined {
  return session.output?.analysis.subject?.namespace ?? session.input.target?.namespace;
}

/** Whether `session` satisfies every filter of `query` (cursor and limit aside). */
export function matchesQuery(session: SessionRecord, query: SessionQuery): boolean {
  return (
    (query.state === undefined || session.state === query.state) &&
    (query.states === undefined || query.states.includes(session.state)) &&
    (query.unfinished !== true || session.phase !== 'done') &&
    (query.namespace === undefined || sessionNamespace(session) === query.namespace) &&
    (query.category === undefined || session.output?.analysis.category === query.category) &&
    (query.after === undefined ||
      session.createdAt < query.after.createdAt ||
      (session.createdAt === query.after.createdAt && session.id < query.after.id))
  );
}

/** Refuses states that are not session states (named by field), before any SQL is built. */
export function checkQueryStates(query: SessionQuery): void {
  for (const state of [...(query.state ? [query.state] : []), ...(query.states ?? [])]) {
    if (!SESSION_STATES.includes(state))
      throw new KubemendError('invalid-input', `state: "${String(state)}" is not a session state`);
  }
}

export interface SessionStore {
  /** The audit log in the same database: the records `WriteOptions.audit` writes go there. */
  readonly audit: AuditRecorder;
  /** The notification outbox in the same database (rows written through `WriteOptions.outbox`). */
  readonly outbox: OutboxStore;
  /** Alert incidents in the same database (rows written through `WriteOptions.alertIncident`). */
  readonly alerts: AlertIncidentStore;
  /** MCP sessions (Streamable HTTP), so that one outlives the process that opened it (ADR 0043). */
  readonly mcpSessions: McpSessionRecords;
  /** Creates the session; fails with `session-conflict` if the id or idempotency key exists. */
  create(session: NewSession, options?: WriteOptions): Promise<SessionRecord>;
  get(id: string): Promise<SessionRecord | undefined>;
  findByIdempotencyKey(key: string): Promise<SessionRecord | undefined>;
  /** Writes changes if the stored version is `expectedVersion`; `session-conflict` otherwise. */
  update(
    id: string,
    expectedVersion: number,
    changes: SessionChanges,
    options?: WriteOptions,
  ): Promise<SessionRecord>;
  /**
   * Atomically moves the session from one of `from` to `to` (and applies `changes`).
   * Returns undefined when the session is not in one of `from` (someone else moved it first).
   */
  transition(
    id: string,
    from: readonly SessionState[],
    to: SessionState,
    changes?: SessionChanges,
    options?: WriteOptions,
  ): Promise<SessionRecord | undefined>;
  /** Sessions matching every filter of `query`, newest first (`createdAt`, then `id`, descending). */
  list(query?: SessionQuery): Promise<SessionRecord[]>;
  /**
   * Sessions created in a range, oldest first, without their largest columns (the request, the
   * results): what reports read (`kubemend report`, /v1/reports/shadow).
   */
  listCreated(range: CreatedRange): Promise<ReportedSession[]>;
  /** The outcome history: records of the category and every rollback since `since`, newest first. */
  outcomes(query: OutcomeQuery): Promise<OutcomeRecord[]>;
  /** Deletes terminal sessions last updated before `before` (retention). Returns how many. */
  purge(before: string): Promise<number>;
  /** Deletes outcome records older than `before` (retention of the history). Returns how many. */
  purgeOutcomes(before: string): Promise<number>;
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

/** The record a change makes of `current`: a new version, stamped by the store. */
export function changedRecord(
  current: SessionRecord,
  changes: SessionChanges,
  updatedAt: string,
): SessionRecord {
  return { ...current, ...changes, version: current.version + 1, updatedAt };
}

/** What `transition` reports when no row moved: the session is gone, or in another state. */
export function transitionRefused(id: string, current: SessionRecord | undefined): undefined {
  if (current === undefined) throw new KubemendError('session-not-found', `session ${id} does not exist`);
  return undefined;
}
