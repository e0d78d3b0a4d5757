/**
 * The audit log: append-only records of every decision and change, each carrying the hash of the
 * previous record (a tamper-evident chain). If a record cannot be written, the change it precedes
 * does not happen (callers await `record` before acting: fail closed).
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../domain/index.js';

export const AUDIT_TYPES = [
  'session.created',
  'analysis.completed',
  'action.proposed',
  'action.approved',
  'action.rejected',
  'action.skipped',
  'action.snapshotted',
  'action.dry-run',
  'action.dry-run-skipped',
  'action.dry-run-failed',
  'action.applied',
  'action.apply-failed',
  'action.conflicted',
  'action.verified',
  'action.verification-failed',
  'action.rolled-back',
  'action.restore-failed',
  'action.outcome-unknown',
  'policy.denied',
  'session.reconciled',
  'session.rejected',
  'session.completed',
  'session.failed',
] as const;
export type AuditType = (typeof AUDIT_TYPES)[number];

export interface AuditEntry {
  readonly type: AuditType;
  readonly actor: string;
  readonly sessionId?: string;
  readonly actionId?: string;
  readonly target?: string;
  /** sha256 digests of the object before and after a change. */
  readonly before?: string;
  readonly after?: string;
  readonly detail?: Readonly<Record<string, unknown>>;
}

export interface AuditRecord extends AuditEntry {
  readonly sequence: number;
  readonly at: string;
  readonly previousHash: string;
  readonly hash: string;
}

export interface AuditQuery {
  readonly sessionId?: string;
  readonly since?: string;
  readonly limit?: number;
}

export interface ChainVerification {
  readonly ok: boolean;
  readonly records: number;
  /** The first record whose hash or link does not match, if any. */
  readonly firstBroken?: { readonly sequence: number; readonly reason: string };
}

export interface AuditRecorder {
  record(entry: AuditEntry): Promise<AuditRecord>;
  /** Appends several records atomically, in order (one commit): all are written or none. */
  recordAll(entries: readonly AuditEntry[]): Promise<AuditRecord[]>;
  list(query?: AuditQuery): Promise<AuditRecord[]>;
  verify(): Promise<ChainVerification>;
}

export const GENESIS_HASH = '0'.repeat(64);

export function hashRecord(record: Omit<AuditRecord, 'hash'>): string {
  return createHash('sha256').update(canonicalJson(record)).digest('hex');
}

export function verifyChain(records: readonly AuditRecord[]): ChainVerification {
  let previous = GENESIS_HASH;
  for (const record of records) {
    const { hash, ...rest } = record;
    if (record.previousHash !== previous) {
      return {
        ok: false,
        records: records.length,
        firstBroken: {
          sequence: record.sequence,
          reason: 'previousHash does not match the hash of the record before it',
        },
      };
    }
    if (hashRecord(rest) !== hash) {
      return {
        ok: false,
        records: records.length,
        firstBroken: {
          sequence: record.sequence,
          reason: 'the record was altered: its content does not match its hash',
        },
      };
    }
    previous = hash;
  }
  return { ok: true, records: records.length };
}

/** An in-memory recorder with the same chain (for tests and single-shot CLI runs). */
export class InMemoryAuditRecorder implements AuditRecorder {
  readonly records: AuditRecord[] = [];
  private readonly clock: () => Date;
  failNext = false;

  constructor(clock: () => Date = () => new Date()) {
    this.clock = clock;
  }

  async record(entry: AuditEntry): Promise<AuditRecord> {
    if (this.failNext) {
      this.failNext = false;
      throw new Error('audit store unavailable');
    }
    const previous = this.records.at(-1);
    const base = {
      ...entry,
      sequence: (previous?.sequence ?? 0) + 1,
      at: this.clock().toISOString(),
      previousHash: previous?.hash ?? GENESIS_HASH,
    };
    const record: AuditRecord = { ...base, hash: hashRecord(base) };
    this.records.push(record);
    return record;
  }

  async recordAll(entries: readonly AuditEntry[]): Promise<AuditRecord[]> {
    const out: AuditRecord[] = [];
    for (const entry of entries) out.push(await this.record(entry));
    return out;
  }

  async list(query: AuditQuery = {}): Promise<AuditRecord[]> {
    return this.records
      .filter(
        (r) =>
          (query.sessionId ? r.sessionId === query.sessionId : true) &&
          (query.since ? r.at >= query.since : true),
      )
      .slice(0, query.limit ?? Number.MAX_SAFE_INTEGER);
  }

  async verify(): Promise<ChainVerification> {
    return verifyChain(this.records);
  }
}
