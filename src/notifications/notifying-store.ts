/**
 * A SessionStore that owes notifications: every write that moves a session into a state people
 * are told about — pending (approval needed), executing, verified, rolled back, failed — carries
 * one outbox row per sink that wants the event, committed in the SAME transaction as the change
 * and its audit records (`WriteOptions.outbox`). So a state change the session acknowledges is
 * never without its notifications, even if the process dies the next instant; the dispatcher
 * delivers them later. A write that repeats a state adds nothing (one row per session, event, sink).
 */
import { randomUUID } from 'node:crypto';
import type { SinkConfiguration } from '../config/alerts.js';
import type { OutcomeQuery, OutcomeRecord } from '../learning/history.js';
import type { NotificationEvent, OutboxEntry } from '../sessions/companions.js';
import type {
  NewSession,
  SessionChanges,
  SessionQuery,
  CreatedRange,
  ReportedSession,
  SessionRecord,
  SessionState,
  SessionStore,
  WriteOptions,
} from '../sessions/store.js';

export const EVENT_OF_STATE: Partial<Record<SessionState, NotificationEvent>> = {
  pending: 'approval-needed',
  executing: 'executing',
  verified: 'verified',
  'rolled-back': 'rolled-back',
  failed: 'failed',
};

export class NotifyingSessionStore implements SessionStore {
  constructor(
    private readonly inner: SessionStore,
    private readonly sinks: readonly Pick<SinkConfiguration, 'name' | 'events'>[],
    private readonly clock: () => Date = () => new Date(),
    private readonly newId: () => string = randomUUID,
  ) {}

  get audit() {
    return this.inner.audit;
  }

  get outbox() {
    return this.inner.outbox;
  }

  get alerts() {
    return this.inner.alerts;
  }

  get mcpSessions() {
    return this.inner.mcpSessions;
  }

  create(session: NewSession, options: WriteOptions = {}): Promise<SessionRecord> {
    return this.inner.create(session, this.owed(session.id, session.state, options));
  }

  get(id: string): Promise<SessionRecord | undefined> {
    return this.inner.get(id);
  }

  findByIdempotencyKey(key: string): Promise<SessionRecord | undefined> {
    return this.inner.findByIdempotencyKey(key);
  }

  update(
    id: string,
    expectedVersion: number,
    changes: SessionChanges,
    options: WriteOptions = {},
  ): Promise<SessionRecord> {
    return this.inner.update(id, expectedVersion, changes, this.owed(id, changes.state, options));
  }

  transition(
    id: string,
    from: readonly SessionState[],
    to: SessionState,
    changes: SessionChanges = {},
    options: WriteOptions = {},
  ): Promise<SessionRecord | undefined> {
    return this.inner.transition(id, from, to, changes, this.owed(id, to, options));
  }

  list(query?: SessionQuery): Promise<SessionRecord[]> {
    return this.inner.list(query);
  }

  listCreated(range: CreatedRange): Promise<ReportedSession[]> {
    return this.inner.listCreated(range);
  }

  outcomes(query: OutcomeQuery): Promise<OutcomeRecord[]> {
    return this.inner.outcomes(query);
  }

  purge(before: string): Promise<number> {
    return this.inner.purge(before);
  }

  purgeOutcomes(before: string): Promise<number> {
    return this.inner.purgeOutcomes(before);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private owed(sessionId: string, state: SessionState | undefined, options: WriteOptions): WriteOptions {
    const event = state === undefined ? undefined : EVENT_OF_STATE[state];
    if (event === undefined) return options;
    const createdAt = this.clock().toISOString();
    const outbox: OutboxEntry[] = this.sinks
      .filter((sink) => sink.events === undefined || sink.events.includes(event))
      .map((sink) => ({ id: this.newId(), sessionId, event, sink: sink.name, createdAt }));
    if (outbox.length === 0) return options;
    return { ...options, outbox: [...(options.outbox ?? []), ...outbox] };
  }
}
