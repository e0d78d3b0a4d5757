/**
 * Outcome history answers, reused for a moment (ADR 0042). Every analysis asks the history of its
 * category; while no outcome is written, an answer read a moment ago is still the answer — a later
 * question (a later `since`) is that answer cut at `since`: the newest records of a shorter window
 * are the newest of the longer one that fall in it. Outcomes written through this store end reuse
 * at once; another instance's are seen within `HISTORY_REUSE_MS` (a learning window is hours to
 * days long).
 */
import type { OutcomeRecord } from '../learning/history.js';

export const HISTORY_REUSE_MS = 1000;

export class HistoryReuse {
  private readonly answers = new Map<
    string,
    {
      readonly generation: number;
      readonly at: number;
      readonly since: string;
      readonly records: OutcomeRecord[];
    }
  >();
  /** Moves on with every write of outcome records (ends reuse). */
  private generation = 0;

  /** The history of `category` since `since` (newest first, at most `limit`), read or reused. */
  async answer(
    category: string,
    limit: number,
    since: string,
    read: () => Promise<OutcomeRecord[]>,
  ): Promise<OutcomeRecord[]> {
    const key = `${category}\u0000${limit}`;
    const now = performance.now();
    const reused = this.answers.get(key);
    if (
      reused !== undefined &&
      reused.generation === this.generation &&
      now - reused.at < HISTORY_REUSE_MS &&
      since >= reused.since
    )
      return reused.records.filter((record) => record.at >= since);
    const generation = this.generation;
    const records = await read();
    if (generation === this.generation) this.answers.set(key, { generation, at: now, since, records });
    return records;
  }

  /**
   * A write of `count` outcome records (or a purge) ends reuse when it starts and again when it ends (call the
   * returned function): no answer read while it was under way is kept.
   */
  writing(count: number): () => void {
    if (count === 0) return () => undefined;
    this.generation++;
    return () => {
      this.generation++;
    };
  }
}
