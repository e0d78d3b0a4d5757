/** Small test doubles for execution and service tests: fake time and an audit log that can fail. */
import {
  type AuditEntry,
  type AuditRecord,
  type AuditType,
  InMemoryAuditRecorder,
} from '../../src/audit/recorder.js';

/**
 * A clock that moves only when something sleeps (or the test says so). Work scheduled with `at`
 * runs when a sleep carries the clock past its time, with the clock showing that time — so a test
 * can break a workload 11 s into a verification window without waiting 11 s.
 */
export class FakeTime {
  private current: number;
  private readonly scheduled: Array<{ readonly at: number; readonly run: () => void }> = [];

  constructor(start = Date.parse('2026-11-25T12:00:00.000Z')) {
    this.current = start;
  }

  readonly clock = (): Date => new Date(this.current);

  readonly sleep = async (ms: number): Promise<void> => {
    const target = this.current + ms;
    for (;;) {
      this.scheduled.sort((a, b) => a.at - b.at);
      const due = this.scheduled[0];
      if (!due || due.at > target) break;
      this.scheduled.shift();
      this.current = Math.max(this.current, due.at);
      due.run();
    }
    this.current = target;
    await Promise.resolve();
  };

  advance(ms: number): void {
    this.current += ms;
  }

  /** Runs `run` once a sleep passes `ms` from now. */
  after(ms: number, run: () => void): void {
    this.scheduled.push({ at: this.current + ms, run });
  }

  get now(): number {
    return this.current;
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
