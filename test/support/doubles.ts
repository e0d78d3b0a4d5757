/** Small test doubles for execution and service tests: fake time and an audit log that can fail. */
import {
  type AuditEntry,
  type AuditRecord,
  type AuditType,
  InMemoryAuditRecorder,
} from '../../src/audit/recorder.js';

/** A clock that moves only when something sleeps (or the test says so). */
export class FakeTime {
  private current: number;

  constructor(start = Date.parse('2026-11-25T12:00:00.000Z')) {
    this.current = start;
  }

  readonly clock = (): Date => new Date(this.current);

  readonly sleep = async (ms: number): Promise<void> => {
    this.current += ms;
    await Promise.resolve();
  };

  advance(ms: number): void {
    this.current += ms;
  }
}

/** An in-memory audit log whose writes of chosen types fail (the audit store is down). */
export class FlakyAuditRecorder extends InMemoryAuditRecorder {
  /** Record types whose next write fails (each once). */
  readonly failOn = new Set<AuditType>();

  override async record(entry: AuditEntry): Promise<AuditRecord> {
    if (this.failOn.delete(entry.type)) throw new Error(`audit store unavailable (${entry.type})`);
    return super.record(entry);
  }

  types(): AuditType[] {
    return this.records.map((record) => record.type);
  }
}
