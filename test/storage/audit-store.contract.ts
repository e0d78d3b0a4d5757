/**
 * The audit store contract, run against every implementation (SQLite, PostgreSQL) by the
 * integration suites: one hash chain identical to the in-memory recorder's, list filters,
 * verification that names the first broken record after tampering or deletion, one linear chain
 * under concurrent appends from several connections, a JSON Lines export that round-trips, and
 * `audit-unavailable` whenever a record cannot be written.
 */
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { type AuditStore, PAGE_SIZE, parseJsonLines } from '../../src/audit/audit-store.js';
import {
  type AuditRecord,
  GENESIS_HASH,
  hashRecord,
  InMemoryAuditRecorder,
  verifyChain,
} from '../../src/audit/recorder.js';
import { KubemendError } from '../../src/domain/errors.js';
import { auditEntry, ManualClock } from './support.js';
import { canonicalJson } from '../../src/domain/index.js';

export interface AuditStoreUnderTest {
  readonly recorder: AuditStore;
  /** Another recorder on the same database through its own connections (another replica). */
  replica(): Promise<AuditStore>;
  /**
   * Runs SQL directly against the database, as an attacker with write access would: with the
   * append-only triggers out of the way. Table: `audit_records` (unqualified).
   */
  tamper(sql: string): Promise<void>;
  /** Runs SQL directly against the database with the store's guards in place. */
  execute(sql: string): Promise<void>;
  /** Breaks the database under the recorder from another connection (its table disappears). */
  breakDatabase(): Promise<void>;
  /** Closes the recorder and its replicas and removes the database. */
  dispose(): Promise<void>;
}

export interface AuditStoreHarness {
  /** A recorder on a fresh, empty database. */
  open(options: { clock: () => Date }): Promise<AuditStoreUnderTest>;
}

async function auditError(promise: Promise<unknown>): Promise<KubemendError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(KubemendError);
    return error as KubemendError;
  }
  throw new Error('expected the promise to reject');
}

async function collect(lines: AsyncIterable<string>): Promise<string> {
  let text = '';
  for await (const line of lines) text += line;
  return text;
}

export function describeAuditStoreContract(name: string, harness: AuditStoreHarness): void {
  describe(`AuditStore contract: ${name}`, () => {
    let clock: ManualClock;
    let opened: AuditStoreUnderTest | undefined;

    async function open(): Promise<AuditStoreUnderTest> {
      clock = new ManualClock();
      opened = await harness.open({ clock: clock.now });
      return opened;
    }

    async function append(
      recorder: AuditStore,
      count: number,
      sessionOf = (_i: number) => 'session-a',
    ): Promise<AuditRecord[]> {
      const out: AuditRecord[] = [];
      for (let i = 1; i <= count; i++) {
        out.push(await recorder.record(auditEntry(i, sessionOf(i))));
        clock.advance(1000);
      }
      return out;
    }

    afterEach(async () => {
      await opened?.dispose();
      opened = undefined;
    });

    describe('append', () => {
      it('chains records from the genesis hash, hashed exactly as the in-memory recorder does', async () => {
        const { recorder } = await open();
        const memoryClock = new ManualClock();
        const memory = new InMemoryAuditRecorder(memoryClock.now);
        for (let i = 1; i <= 5; i++) {
          const stored = await recorder.record(auditEntry(i));
          const expected = await memory.record(auditEntry(i));
          expect(stored).toEqual(expected);
          clock.advance(1000);
          memoryClock.advance(1000);
        }
        const records = await recorder.list();
        expect(records).toEqual(memory.records);
        expect(records[0]!.previousHash).toBe(GENESIS_HASH);
        for (const record of records) {
          const { hash, ...rest } = record;
          expect(hashRecord(rest)).toBe(hash);
        }
      });

      it('stores minimal entries without inventing fields', async () => {
        const { recorder } = await open();
        const record = await recorder.record({ type: 'policy.denied', actor: 'kubemend' });
        expect(Object.keys(record).sort()).toEqual([
          'actor',
          'at',
          'hash',
          'previousHash',
          'sequence',
          'type',
        ]);
        expect(await recorder.list()).toEqual([record]);
      });

      it('hashes detail as it will be read back (a Date becomes its ISO string)', async () => {
        const { recorder } = await open();
        const record = await recorder.record({
          type: 'action.snapshotted',
          actor: 'kubemend',
          detail: { at: new Date('2026-11-01T00:00:00Z'), gone: undefined, text: 'ünïcödé \u0000 ✓' },
        });
        expect(record.detail).toEqual({ at: '2026-11-01T00:00:00.000Z', text: 'ünïcödé \u0000 ✓' });
        expect(await recorder.list()).toEqual([record]);
        expect(await recorder.verify()).toEqual({ ok: true, records: 1 });
      });
    });

    describe('list', () => {
      it('filters by session, by time and limits, in sequence order', async () => {
        const { recorder } = await open();
        const records = await append(recorder, 9, (i) => (i % 3 === 0 ? 'session-b' : 'session-a'));
        expect((await recorder.list()).map((r) => r.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
        expect((await recorder.list({ sessionId: 'session-b' })).map((r) => r.sequence)).toEqual([3, 6, 9]);
        expect((await recorder.list({ since: records[6]!.at })).map((r) => r.sequence)).toEqual([7, 8, 9]);
        expect(
          (await recorder.list({ sessionId: 'session-a', since: records[3]!.at, limit: 2 })).map(
            (r) => r.sequence,
          ),
        ).toEqual([4, 5]);
        expect(await recorder.list({ sessionId: 'nobody' })).toEqual([]);
      });

      it('refuses a `since` that is not a timestamp', async () => {
        const { recorder } = await open();
        expect((await auditError(recorder.list({ since: 'yesterday' }))).code).toBe('invalid-input');
      });
    });

    describe('verify', () => {
      it('passes on an empty log and on an intact chain', async () => {
        const { recorder } = await open();
        expect(await recorder.verify()).toEqual({ ok: true, records: 0 });
        await append(recorder, 12);
        expect(await recorder.verify()).toEqual({ ok: true, records: 12 });
      });

      it('refuses UPDATE and DELETE on records (append-only)', async () => {
        const fixture = await open();
        await append(fixture.recorder, 3);
        await expect(
          fixture.execute(`UPDATE audit_records SET actor = 'mallory' WHERE sequence = 2`),
        ).rejects.toThrow(/append-only/);
        await expect(fixture.execute('DELETE FROM audit_records WHERE sequence = 2')).rejects.toThrow(
          /append-only/,
        );
        expect(await fixture.recorder.verify()).toEqual({ ok: true, records: 3 });
      });

      it("names the record whose detail was changed behind the recorder's back", async () => {
        const fixture = await open();
        await append(fixture.recorder, 10);
        await fixture.tamper(
          `UPDATE audit_records SET detail = '{"index":7,"note":"nothing happened"}' WHERE sequence = 7`,
        );
        const verdict = await fixture.recorder.verify();
        expect(verdict.ok).toBe(false);
        expect(verdict.records).toBe(10);
        expect(verdict.firstBroken).toEqual({
          sequence: 7,
          reason: 'the record was altered: its content does not match its hash',
        });
      });

      it('names the next record when the altered one was re-hashed to match', async () => {
        const fixture = await open();
        const records = await append(fixture.recorder, 6);
        const { hash: _old, ...rest } = { ...records[2]!, actor: 'mallory' };
        await fixture.tamper(
          `UPDATE audit_records SET actor = 'mallory', hash = '${hashRecord(rest)}' WHERE sequence = 3`,
        );
        expect((await fixture.recorder.verify()).firstBroken).toEqual({
          sequence: 4,
          reason: 'previousHash does not match the hash of the record before it',
        });
      });

      it('names the gap left by a deleted record, and later appends do not hide it', async () => {
        const fixture = await open();
        await append(fixture.recorder, 8);
        await fixture.tamper('DELETE FROM audit_records WHERE sequence = 5');
        const verdict = await fixture.recorder.verify();
        expect(verdict.ok).toBe(false);
        expect(verdict.firstBroken?.sequence).toBe(5);
        expect(verdict.firstBroken?.reason).toMatch(/record 5 is missing/);

        const next = await fixture.recorder.record(auditEntry(9));
        expect(next.sequence).toBe(9);
        expect((await fixture.recorder.verify()).firstBroken?.sequence).toBe(5);
      });

      it('names the gap left by several deleted records', async () => {
        const fixture = await open();
        await append(fixture.recorder, 8);
        await fixture.tamper('DELETE FROM audit_records WHERE sequence IN (1, 2)');
        const verdict = await fixture.recorder.verify();
        expect(verdict.firstBroken?.sequence).toBe(1);
        expect(verdict.firstBroken?.reason).toMatch(/records 1 to 2 are missing/);
      });

      it('names a truncated tail (the last records deleted)', async () => {
        const fixture = await open();
        await append(fixture.recorder, 6);
        await fixture.tamper('DELETE FROM audit_records WHERE sequence >= 5');
        const verdict = await fixture.recorder.verify();
        expect(verdict.ok).toBe(false);
        expect(verdict.firstBroken?.sequence).toBe(5);
        expect(verdict.firstBroken?.reason).toMatch(/missing/);
      });
    });

    describe('concurrent appends', () => {
      it('several connections appending at once produce one linear, valid chain', async () => {
        const fixture = await open();
        const recorders = [fixture.recorder];
        for (let i = 0; i < 3; i++) recorders.push(await fixture.replica());
        const perRecorder = 40;
        const returned = await Promise.all(
          recorders.flatMap((recorder, r) =>
            Array.from({ length: perRecorder }, (_, i) =>
              recorder.record({ ...auditEntry(i), actor: `replica-${r}`, detail: { replica: r, i } }),
            ),
          ),
        );
        const total = recorders.length * perRecorder;
        expect(new Set(returned.map((r) => r.sequence)).size).toBe(total);
        expect(new Set(returned.map((r) => r.previousHash)).size).toBe(total);
        const stored = await fixture.recorder.list();
        expect(stored.map((r) => r.sequence)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
        const bySequence = new Map(returned.map((r) => [r.sequence, r]));
        for (const record of stored) expect(bySequence.get(record.sequence)).toEqual(record);
        expect(verifyChain(stored)).toEqual({ ok: true, records: total });
        for (const recorder of recorders)
          expect(await recorder.verify()).toEqual({ ok: true, records: total });
      });
    });

    describe('JSON Lines export', () => {
      it('round-trips: the export parses back to the stored records and verifies on its own', async () => {
        const { recorder } = await open();
        await append(recorder, 7);
        const text = await collect(recorder.exportJsonLines());
        const lines = text.split('\n');
        expect(lines.at(-1)).toBe('');
        expect(lines).toHaveLength(8);
        const parsed = parseJsonLines(text);
        expect(parsed).toEqual(await recorder.list());
        for (const [i, record] of parsed.entries()) expect(lines[i]).toBe(canonicalJson(record));
        expect(verifyChain(parsed)).toEqual({ ok: true, records: 7 });
      });

      it(`streams more than one page (${PAGE_SIZE} records) into a Writable`, async () => {
        const { recorder } = await open();
        const total = PAGE_SIZE + 37;
        for (let i = 1; i <= total; i++)
          await recorder.record({ type: 'action.dry-run', actor: 'kubemend', detail: { i } });
        const chunks: string[] = [];
        await pipeline(
          Readable.from(recorder.exportJsonLines()),
          new Writable({
            write(chunk: Buffer | string, _encoding, done) {
              chunks.push(chunk.toString());
              done();
            },
          }),
        );
        const parsed = parseJsonLines(chunks.join(''));
        expect(parsed.map((r) => r.sequence)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
        expect(verifyChain(parsed)).toEqual({ ok: true, records: total });
      });

      it('exports a tampered log as it is, so the copy shows the same broken record', async () => {
        const fixture = await open();
        await append(fixture.recorder, 4);
        await fixture.tamper(`UPDATE audit_records SET actor = 'mallory' WHERE sequence = 2`);
        const parsed = parseJsonLines(await collect(fixture.recorder.exportJsonLines()));
        expect(verifyChain(parsed).firstBroken?.sequence).toBe(2);
      });
    });

    describe('fail closed', () => {
      it('record throws audit-unavailable once the recorder is closed', async () => {
        const { recorder } = await open();
        await recorder.record(auditEntry(1));
        await recorder.close();
        const error = await auditError(recorder.record(auditEntry(2)));
        expect(error.code).toBe('audit-unavailable');
        expect((await auditError(recorder.list())).code).toBe('audit-unavailable');
        expect((await auditError(recorder.verify())).code).toBe('audit-unavailable');
      });

      it('record throws audit-unavailable when the database breaks underneath', async () => {
        const fixture = await open();
        await fixture.recorder.record(auditEntry(1));
        await fixture.breakDatabase();
        const error = await auditError(fixture.recorder.record(auditEntry(2)));
        expect(error.code).toBe('audit-unavailable');
        expect(error.message).toMatch(/audit log/);
        expect(error.cause).toBeDefined();
      });

      it('record throws audit-unavailable for a detail that is not JSON', async () => {
        const { recorder } = await open();
        const error = await auditError(
          recorder.record({
            type: 'action.applied',
            actor: 'kubemend',
            detail: { size: 10n } as Record<string, unknown>,
          }),
        );
        expect(error.code).toBe('audit-unavailable');
        expect(await recorder.verify()).toEqual({ ok: true, records: 0 });
      });
    });
  });
}
