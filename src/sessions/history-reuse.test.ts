import { afterEach, describe, expect, it, vi } from 'vitest';
import type { OutcomeRecord } from '../learning/history.js';
import { HISTORY_REUSE_MS, HistoryReuse } from './history-reuse.js';

const record = (at: string): OutcomeRecord =>
  ({ category: 'oom-killed', actionType: 'patch', outcome: 'verified', at }) as OutcomeRecord;

function reader(records: OutcomeRecord[]) {
  const read = vi.fn(async () => records.filter((r) => r.at >= '2026-12-01T00:00:00.000Z'));
  return read;
}

afterEach(() => vi.useRealTimers());

describe('HistoryReuse', () => {
  it('reuses an answer for a later window, cut at its start', async () => {
    const reuse = new HistoryReuse();
    const read = reader([record('2026-12-02T02:00:00.000Z'), record('2026-12-01T01:00:00.000Z')]);
    expect(await reuse.answer('oom-killed', 50, '2026-12-01T00:00:00.000Z', read)).toHaveLength(2);
    expect(await reuse.answer('oom-killed', 50, '2026-12-01T12:00:00.000Z', read)).toEqual([
      record('2026-12-02T02:00:00.000Z'),
    ]);
    expect(read).toHaveBeenCalledTimes(1);
    // An earlier window, another category or another limit is another question.
    await reuse.answer('oom-killed', 50, '2026-11-30T00:00:00.000Z', read);
    await reuse.answer('crash-loop', 50, '2026-12-01T12:00:00.000Z', read);
    await reuse.answer('oom-killed', 10, '2026-12-01T12:00:00.000Z', read);
    expect(read).toHaveBeenCalledTimes(4);
  });

  it('reads again after a write of outcomes, and keeps nothing read during one', async () => {
    const reuse = new HistoryReuse();
    const read = reader([]);
    const since = '2026-12-01T00:00:00.000Z';
    await reuse.answer('oom-killed', 50, since, read);
    const written = reuse.writing(1);
    await reuse.answer('oom-killed', 50, since, read); // during the write: read, not kept
    written();
    await reuse.answer('oom-killed', 50, since, read);
    await reuse.answer('oom-killed', 50, since, read);
    expect(read).toHaveBeenCalledTimes(3);
    // A write without outcome records changes nothing.
    reuse.writing(0)();
    await reuse.answer('oom-killed', 50, since, read);
    expect(read).toHaveBeenCalledTimes(3);
  });

  it('reads again once the answer is older than HISTORY_REUSE_MS (another instance may have written)', async () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const reuse = new HistoryReuse();
    const read = reader([]);
    const since = '2026-12-01T00:00:00.000Z';
    await reuse.answer('oom-killed', 50, since, read);
    vi.advanceTimersByTime(HISTORY_REUSE_MS - 1);
    await reuse.answer('oom-killed', 50, since, read);
    expect(read).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    await reuse.answer('oom-killed', 50, since, read);
    expect(read).toHaveBeenCalledTimes(2);
  });
});
