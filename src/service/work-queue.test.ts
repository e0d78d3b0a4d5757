import { describe, expect, it } from 'vitest';
import { WorkQueue } from './work-queue.js';

/** A job that finishes when `finish()` is called, recording when it started. */
function gate(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    job: {
      start: async () => {
        log.push(name);
        await done;
      },
      abandon: async () => {
        log.push(`abandoned ${name}`);
      },
    },
    finish: () => finish(),
  };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('WorkQueue', () => {
  it('takes callers in turn: a noisy caller delays a quiet one by one job, not by its whole backlog', async () => {
    const queue = new WorkQueue({ concurrency: 1, capacity: 100, perCaller: 50 });
    const log: string[] = [];
    const gates = new Map<string, ReturnType<typeof gate>>();
    const add = (caller: string, name: string) => {
      const g = gate(log, name);
      gates.set(name, g);
      queue.run(queue.reserve(caller), g.job);
    };
    for (let i = 1; i <= 5; i++) add('noisy', `noisy-${i}`);
    add('quiet', 'quiet-1');
    for (const name of ['noisy-1', 'quiet-1', 'noisy-2', 'noisy-3', 'noisy-4', 'noisy-5']) {
      await tick();
      expect(log.at(-1)).toBe(name);
      gates.get(name)!.finish();
    }
    expect(await queue.settled(1_000)).toBe(true);
  });

  it('refuses beyond a caller’s share (rate-limited) and beyond its capacity (queue-full), before any work exists', () => {
    const queue = new WorkQueue({ concurrency: 1, capacity: 3, perCaller: 2 });
    queue.reserve('a');
    queue.reserve('a');
    expect(() => queue.reserve('a')).toThrow(expect.objectContaining({ code: 'rate-limited' }));
    const b = queue.reserve('b');
    expect(() => queue.reserve('c')).toThrow(expect.objectContaining({ code: 'queue-full' }));
    b.cancel();
    expect(() => queue.reserve('c')).not.toThrow();
  });

  it('when closing: refuses new work, lets running work finish, abandons what never started', async () => {
    const queue = new WorkQueue({ concurrency: 1, capacity: 10, perCaller: 10 });
    const log: string[] = [];
    const first = gate(log, 'first');
    queue.run(queue.reserve('a'), first.job);
    queue.run(queue.reserve('a'), gate(log, 'second').job);
    queue.close();
    expect(() => queue.reserve('b')).toThrow(expect.objectContaining({ code: 'shutting-down' }));
    expect(await queue.settled(50)).toBe(false);
    expect(await queue.discardWaiting()).toBe(1);
    first.finish();
    expect(await queue.settled(1_000)).toBe(true);
    expect(log).toEqual(['first', 'abandoned second']);
    expect(queue.size).toBe(0);
  });
});
