import { describe, expect, it } from 'vitest';
import { coalescedReads } from './coalesced-reads.js';
import type { ClusterGateway, KubeObject } from './gateway.js';

function counting() {
  const calls: string[] = [];
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const gateway = {
    server: 'https://api',
    async get(key: { name: string }) {
      calls.push(`get ${key.name}`);
      await gate;
      return { metadata: { name: key.name } } as KubeObject;
    },
    async list() {
      calls.push('list');
      await gate;
      return [{ metadata: { name: 'a' } }] as KubeObject[];
    },
    async patch() {
      calls.push('patch');
      return {} as KubeObject;
    },
  } as unknown as ClusterGateway;
  return { gateway, calls, release: () => release() };
}

describe('coalescedReads', () => {
  it('shares a read in flight among identical callers, each getting its own copy', async () => {
    const { gateway, calls, release } = counting();
    const reads = coalescedReads(gateway);
    const pending = [
      reads.get({ kind: 'Pod', namespace: 'n', name: 'p' }),
      reads.get({ kind: 'Pod', namespace: 'n', name: 'p' }),
      reads.get({ kind: 'Pod', namespace: 'n', name: 'q' }),
      reads.list('Pod', 'n'),
      reads.list('Pod', 'n'),
    ];
    release();
    const [first, second] = await Promise.all(pending);
    expect(calls).toEqual(['get p', 'get q', 'list']);
    expect(first).toEqual(second);
    expect(first).not.toBe(second);
    // Once answered, the next read calls again (nothing is cached).
    await reads.get({ kind: 'Pod', namespace: 'n', name: 'p' });
    expect(calls.filter((c) => c === 'get p')).toHaveLength(2);
    expect(reads.server).toBe('https://api');
  });

  it('passes writes through to the gateway', async () => {
    const { gateway, calls } = counting();
    await coalescedReads(gateway).patch({ kind: 'Pod', name: 'p' }, 'merge', {});
    expect(calls).toEqual(['patch']);
  });
});
