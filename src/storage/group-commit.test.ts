import { describe, expect, it } from 'vitest';
import { GroupCommitQueue, type Outcome } from './group-commit.js';

/** A batch runner that commits when told to: what a writer thread or a database round trip is. */
function gatedRunner() {
  const batches: string[][] = [];
  const gates: Array<() => void> = [];
  const runBatch = (units: readonly string[]) => {
    batches.push([...units]);
    return new Promise<Outcome<string>[]>((resolve) => {
      gates.push(() => resolve(units.map((unit) => ({ ok: true as const, value: unit.toUpperCase() }))));
    });
  };
  return { batches, gates, runBatch };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('GroupCommitQueue', () => {
  it('units submitted in one turn commit in one batch, in order', async () => {
    const { batches, gates, runBatch } = gatedRunner();
    const queue = new GroupCommitQueue(runBatch);
    const answers = Promise.all(['a', 'b', 'c'].map((unit) => queue.run(unit)));
    await turn();
    gates.shift()!();
    expect(await answers).toEqual(['A', 'B', 'C']);
    expect(batches).toEqual([['a', 'b', 'c']]);
  });

  it('keeps one batch in flight: what arrives while it commits goes together in the next one', async () => {
    const { batches, gates, runBatch } = gatedRunner();
    const queue = new GroupCommitQueue(runBatch);
    const first = queue.run('a');
    await turn();
    // Three more turns while the first batch commits: each would have been a batch of its own.
    const later = [];
    for (const unit of ['b', 'c', 'd']) {
      later.push(queue.run(unit));
      await turn();
    }
    expect(batches).toEqual([['a']]);
    gates.shift()!();
    expect(await first).toBe('A');
    await turn();
    expect(batches).toEqual([['a'], ['b', 'c', 'd']]);
    gates.shift()!();
    expect(await Promise.all(later)).toEqual(['B', 'C', 'D']);
  });

  it('a failed batch rejects its units and the next batch still runs', async () => {
    let calls = 0;
    const queue = new GroupCommitQueue<string, string>(async (units) => {
      calls++;
      if (calls === 1) throw new Error('disk full');
      return units.map((unit) => ({ ok: true as const, value: unit }));
    });
    const failed = queue.run('a');
    const next = queue.run('b');
    await expect(failed).rejects.toThrow('disk full');
    await expect(next).rejects.toThrow('disk full');
    expect(await queue.run('c')).toBe('c');
  });
});
