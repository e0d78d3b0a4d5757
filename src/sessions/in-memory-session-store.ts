/**
 * A SessionStore in memory: for unit tests and single-shot CLI runs (nothing to persist). Its
 * audit log is an `InMemoryAuditRecorder`; a change and its audit records are applied in one
 * synchronous step (check, append, apply), so they happen together or not at all, as in the
 * databases.
 */
import { InMemoryAuditRecorder } from '../audit/recorder.js';
import { KubemendError } from '../domain/index.js';
import { InMemoryCompanions } from './companions.js';
import { InMemoryMcpSessionRecords } from './mcp-session-records.js';
import { HISTORY_LIMIT, type OutcomeQuery, type OutcomeRecord } from '../learning/history.js';
import { normalizeLimit } from '../storage/values.js';
import {
  changedRecord,
  checkQueryStates,
  type CreatedRange,
  matchesQuery,
  type NewSession,
  type ReportedSession,
  type SessionChanges,
  type SessionQuery,
  type SessionRecord,
  type SessionState,
  type SessionStore,
  TERMINAL_STATES,
  transitionRefused,
  updateRefused,
  type WriteOptions,
} from './store.js';

export class InMemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, SessionRecord>();
  private readonly history: OutcomeRecord[] = [];
  private readonly clock: () => Date;
  readonly audit: InMemoryAuditRecorder;
  private readonly companions: InMemoryCompanions;
  readonly mcpSessions = new InMemoryMcpSessionRecords();

  constructor(clock: () => Date = () => new Date(), audit?: InMemoryAuditRecorder) {
    this.clock = clock;
    this.audit = audit ?? new InMemoryAuditRecorder(clock);
    this.companions = new InMemoryCompanions((entries) => this.audit.appendAll(entries));
  }

  get outbox(): InMemoryCompanions {
    return this.companions;
  }

  get alerts(): InMemoryCompanions {
    return this.companions;
  }

  async create(session: NewSession, options: WriteOptions = {}): Promise<SessionRecord> {
    if (this.sessions.has(session.id))
      throw new KubemendError('session-conflict', `session ${session.id} exists`);
    if (
      session.idempotencyKey &&
      [...this.sessions.values()].some((s) => s.idempotencyKey === session.idempotencyKey)
    ) {
      throw new KubemendError(
        'session-conflict',
        `a session with idempotency key ${session.idempotencyKey} exists`,
      );
    }
    try {
      this.companions.check(options.alertIncident);
    } catch (error) {
      throw new KubemendError('session-conflict', (error as Error).message);
    }
    const record: SessionRecord = { ...session, version: 1, updatedAt: this.clock().toISOString() };
    return this.commit(record, options);
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const record = this.sessions.get(id);
    return record ? structuredClone(record) : undefined;
  }

  async findByIdempotencyKey(key: string): Promise<SessionRecord | undefined> {
    const record = [...this.sessions.values()].find((s) => s.idempotencyKey === key);
    return record ? structuredClone(record) : undefined;
  }

  async update(
    id: string,
    expectedVersion: number,
    changes: SessionChanges,
    options: WriteOptions = {},
  ): Promise<SessionRecord> {
    const current = this.sessions.get(id);
    if (current?.version !== expectedVersion) throw updateRefused(id, expectedVersion, current);
    return this.commit(changedRecord(current, changes, this.clock().toISOString()), options);
  }

  async transition(
    id: string,
    from: readonly SessionState[],
    to: SessionState,
    changes: SessionChanges = {},
    options: WriteOptions = {},
  ): Promise<SessionRecord | undefined> {
    const current = this.sessions.get(id);
    if (!current || !from.includes(current.state)) return transitionRefused(id, current);
    return this.commit(
      changedRecord(current, { ...changes, state: to }, this.clock().toISOString()),
      options,
    );
  }

  async list(query: SessionQuery = {}): Promise<SessionRecord[]> {
    checkQueryStates(query);
    const limit = normalizeLimit(query.limit) ?? Number.MAX_SAFE_INTEGER;
    return [...this.sessions.values()]
      .filter((s) => matchesQuery(s, query))
      .sort(newestFirst)
      .slice(0, limit)
      .map((s) => structuredClone(s));
  }

  async listCreated(range: CreatedRange): Promise<ReportedSession[]> {
    return [...this.sessions.values()]
      .filter(
        (s) =>
          (range.from === undefined || s.createdAt >= range.from) &&
          (range.to === undefined || s.createdAt < range.to),
      )
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
      .slice(0, range.limit)
      .map((s) => structuredClone(s));
  }

  async outcomes(query: OutcomeQuery): Promise<OutcomeRecord[]> {
    return this.history
      .filter(
        (record) =>
          record.at >= query.since &&
          (record.category === query.category || record.outcome === 'rolled-back'),
      )
      .reverse()
      .slice(0, query.limit ?? HISTORY_LIMIT)
      .map((record) => ({ ...record }));
  }

  async purgeOutcomes(before: string): Promise<number> {
    const kept = this.history.filter((record) => record.at >= before);
    const removed = this.history.length - kept.length;
    this.history.splice(0, this.history.length, ...kept);
    return removed;
  }

  async purge(before: string): Promise<number> {
    let removed = 0;
    for (const [id, session] of this.sessions) {
      if (TERMINAL_STATES.includes(session.state) && session.updatedAt < before) {
        this.sessions.delete(id);
        removed++;
      }
    }
    return removed;
  }

  async close(): Promise<void> {}

  /** Appends the records (all or none, may throw), then applies the change: both or neither. */
  private commit(next: SessionRecord, options: WriteOptions): SessionRecord {
    this.audit.appendAll(options.audit ?? []);
    this.companions.apply(options.outbox, options.alertIncident);
    this.sessions.set(next.id, next);
    this.history.push(...(options.outcomes ?? []).map((record) => ({ ...record })));
    return structuredClone(next);
  }
}

function newestFirst(a: SessionRecord, b: SessionRecord): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}
