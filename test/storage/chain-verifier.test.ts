/**
 * The stores' incremental ChainVerifier agrees with recorder.ts's `verifyChain` on every chain
 * without gaps (intact or altered anywhere), and adds what a stored log needs: gaps and a
 * truncated tail are named. No database needed (unit project).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChainVerifier, parseJsonLines, sealRecord, toJsonLine } from '../../src/audit/audit-store.js';
import {
  type AuditRecord,
  GENESIS_HASH,
  InMemoryAuditRecorder,
  verifyChain,
} from '../../src/audit/recorder.js';
import { auditEntry, ManualClock } from './support.js';

async function chain(length: number): Promise<AuditRecord[]> {
  const clock = new ManualClock();
  const recorder = new InMemoryAuditRecorder(clock.now);
  for (let i = 1; i <= length; i++) {
    await recorder.record(auditEntry(i));
    clock.advance(1000);
  }
  return recorder.records;
}

function verifyIncrementally(
  records: readonly AuditRecord[],
  head?: { sequence: number; hash: string } | null,
) {
  const verifier = new ChainVerifier();
  for (const record of records) verifier.push(record);
  return verifier.finish(head);
}

describe('ChainVerifier', () => {
  it('agrees with verifyChain on intact and altered chains', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 12 }),
        fc.option(
          fc.record({
            at: fc.nat(),
            field: fc.constantFrom('actor', 'detail', 'hash', 'previousHash', 'at', 'type'),
          }),
        ),
        async (length, alteration) => {
          const records = [...(await chain(length))];
          if (alteration !== null && length > 0) {
            const index = alteration.at % length;
            const original = records[index]!;
            const changed: Record<string, unknown> = { ...original };
            if (alteration.field === 'detail') changed['detail'] = { forged: true };
            else if (alteration.field === 'at') changed['at'] = '2030-01-01T00:00:00.000Z';
            else if (alteration.field === 'type') changed['type'] = 'action.rolled-back';
            else changed[alteration.field] = `${String(original[alteration.field])}x`;
            records[index] = changed as unknown as AuditRecord;
          }
          expect(verifyIncrementally(records)).toEqual(verifyChain(records));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('names a missing record, and a run of missing records, by the first sequence missing', async () => {
    const records = await chain(6);
    expect(verifyIncrementally(records.filter((r) => r.sequence !== 4)).firstBroken).toEqual({
      sequence: 4,
      reason: 'record 4 is missing (the record after 3 is 5)',
    });
    expect(verifyIncrementally(records.filter((r) => r.sequence > 2)).firstBroken).toEqual({
      sequence: 1,
      reason: 'records 1 to 2 are missing (the record after 0 is 3)',
    });
  });

  it('checks the end of the log against the chain head', async () => {
    const records = await chain(5);
    const head = { sequence: 5, hash: records[4]!.hash };
    expect(verifyIncrementally(records, head)).toEqual({ ok: true, records: 5 });
    expect(verifyIncrementally(records.slice(0, 3), head).firstBroken?.sequence).toBe(4);
    expect(verifyIncrementally(records, { sequence: 4, hash: records[3]!.hash }).firstBroken?.sequence).toBe(
      5,
    );
    expect(verifyIncrementally(records, { sequence: 5, hash: 'f'.repeat(64) }).firstBroken?.sequence).toBe(5);
    expect(verifyIncrementally(records, null).firstBroken?.reason).toMatch(/chain head is missing/);
    expect(verifyIncrementally([], { sequence: 0, hash: GENESIS_HASH })).toEqual({ ok: true, records: 0 });
  });

  it('names a record that could not be read', () => {
    const verifier = new ChainVerifier();
    verifier.unreadable(1, 'detail is not JSON');
    expect(verifier.finish().firstBroken).toEqual({
      sequence: 1,
      reason: 'the record cannot be read: detail is not JSON',
    });
  });
});

describe('sealRecord and JSON Lines', () => {
  it('seals exactly what the in-memory recorder produces for the same entry', async () => {
    const [first] = await chain(1);
    const sealed = sealRecord(auditEntry(1), 1, first!.at, GENESIS_HASH);
    expect(sealed).toEqual(first);
  });

  it('round-trips records through a JSON Lines line', async () => {
    const records = await chain(3);
    expect(parseJsonLines(records.map(toJsonLine).join(''))).toEqual(records);
    expect(() => parseJsonLines('{"sequence":1}\nnot json\n')).toThrow(/line 2/);
  });
});
