/**
 * The audit log: append-only records of every decision and change, each carrying the hash of the
 * previous record (a tamper-evident chain). If a record cannot be written, the change it precedes
 * does not happen (callers await `record` before acting: fail closed).
 */
import { createHash } from 'node:crypto';
import { canonicalJson, KubemendError } from '../domain/index.js';

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
  /**
   * With `verify(from)` and a chain that verifies: the last record verified, where the next
   * incremental walk starts (`from` = sequence 0 and the genesis hash: a full walk that reports it).
   */
  readonly last?: { readonly sequence: number; readonly hash: string };
}

/** A record verified before: incremental verification re-checks it and walks only what follows. */
export interface VerifiedPoint {
  readonly sequence: number;
  readonly hash: string;
}

export interface AuditRecorder {
  record(entry: AuditEntry): Promise<AuditRecord>;
  /** Appends several records atomically, in order (one commit): all are written or none. */
  recordAll(entries: readonly AuditEntry[]): Promise<AuditRecord[]>;
  list(query?: AuditQuery): Promise<AuditRecord[]>;
  /**
   * Verifies the whole chain, or — with `from`, a point an earlier verification returned as
   * `last` — re-checks that record and verifies only the records after it.
   */
  verify(from?: VerifiedPoint): Promise<ChainVerification>;
}

export const GENESIS_HASH = '0'.repeat(64);

export function hashRecord(record: Omit<AuditRecord, 'hash'>): string {
  return createHash('sha256').update(canonicalJson(record)).digest('hex');
}

export function verifyChain(
  records: readonly AuditRecord[],
  previousHash: string = GENESIS_HASH,
): ChainVerification {
  let previous = previousHash;
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
  /** The next append fails (once). */
  failNext = false;
  /** Every append fails while set: an unwritable audit store. */
  unavailable = false;

  constructor(clock: () => Date = () => new Date()) {
    this.clock = clock;
  }

  /**
   * Appends `entries` in order, all or none, synchronously: a session store in memory calls it
   * between checking and applying a change, so the two happen together or not at all.
   */
  appendAll(entries: readonly AuditEntry[]): AuditRecord[] {
    if (entries.length === 0) return [];
    if (this.failNext || this.unavailable) {
      this.failNext = false;
      throw new KubemendError('audit-unavailable', 'audit store unavailable');
    }
    const out: AuditRecord[] = [];
    for (const entry of entries) {
      const previous = out.at(-1) ?? this.records.at(-1);
      const base = {
        ...entry,
        sequence: (previous?.sequence ?? 0) + 1,
        at: this.clock().toISOString(),
        previousHash: previous?.hash ?? GENESIS_HASH,
      };
      out.push({ ...base, hash: hashRecord(base) });
    }
    this.records.push(...out);
    return out;
  }

  async record(entry: AuditEntry): Promise<AuditRecord> {
    return this.appendAll([entry])[0]!;
  }

  async recordAll(entries: readonly AuditEntry[]): Promise<AuditRecord[]> {
    return this.appendAll(entries);
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

  async verify(from?: VerifiedPoint): Promise<ChainVerification> {
    if (from === undefined) return verifyChain(this.records);
    if (from.sequence === 0) return withLast(verifyChain(this.records), this.records.at(-1));
    const index = this.records.findIndex((r) => r.sequence === from.sequence);
    const anchor = this.records[index];
    const { hash, ...rest } = anchor ?? { hash: '' };
    if (anchor === undefined || hash !== from.hash || hashRecord(rest as Omit<AuditRecord, 'hash'>) !== hash)
      return {
        ok: false,
        records: 0,
        firstBroken: {
          sequence: from.sequence,
          reason: `record ${from.sequence} was altered after it was verified`,
        },
      };
    const following = this.records.slice(index + 1);
    const result = verifyChain(following, from.hash);
    return withLast(result, following.at(-1) ?? anchor);
  }
}

function withLast(result: ChainVerification, last?: AuditRecord): ChainVerification {
  if (!result.ok) return result;
  return {
    ...result,
    last: last ? { sequence: last.sequence, hash: last.hash } : { sequence: 0, hash: GENESIS_HASH },
  };
}
