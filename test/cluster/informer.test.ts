/**
 * The informer (src/cluster/informer.ts) against the in-memory API server: list then watch,
 * resume from the last resourceVersion, list again on 410 Gone (at once or as an ERROR event),
 * back off on errors, keep only projections.
 */
import { ExponentialBackoff } from 'cockatiel';
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/cluster/gateway.js';
import { Informer, type InformerChange } from '../../src/cluster/informer.js';
import { InMemoryClusterGateway } from '../support/in-memory-gateway.js';

const pod = (name: string, phase = 'Running', namespace = 'shop'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace, labels: { app: 'web' }, annotations: { big: 'x'.repeat(2_000) } },
  spec: { containers: [{ name: 'main', image: 'ghcr.io/acme/web:v2.0.0' }] },
  status: { phase },
});

const phaseOf = (object: KubeObject) => String((object.status as { phase?: string } | undefined)?.phase);

async function until(condition: () => boolean, what: string, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const started: Array<Informer<unknown>> = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((informer) => informer.stop()));
});

function informer(
  gateway: InMemoryClusterGateway,
  options: { pageSize?: number; errors?: Array<{ error: unknown; retryInMs: number }> } = {},
) {
  const changes: Array<InformerChange<string>> = [];
  const informer = new Informer<string>(gateway, {
    kind: 'Pod',
    namespace: 'shop',
    project: phaseOf,
    onChange: (change) => changes.push(change),
    onError: (error, retryInMs) => options.errors?.push({ error, retryInMs }),
    pageSize: options.pageSize,
    backoff: new ExponentialBackoff({ initialDelay: 2, maxDelay: 20 }),
  });
  started.push(informer as Informer<unknown>);
  informer.start();
  return { informer, changes };
}

describe('Informer', () => {
  it('lists in pages, then reports each change once as the watch delivers it', async () => {
    const gateway = new InMemoryClusterGateway([pod('a'), pod('b'), pod('c'), pod('z', 'Running', 'other')]);
    const { informer: pods, changes } = informer(gateway, { pageSize: 2 });
    await until(() => pods.synced, 'the first list');
    expect(gateway.reads.filter((read) => read === 'page Pod shop')).toHaveLength(2);
    expect(changes.map((c) => [c.type, c.key, c.fromList])).toEqual([
      ['upsert', 'shop/a', true],
      ['upsert', 'shop/b', true],
      ['upsert', 'shop/c', true],
    ]);
    await until(() => gateway.openWatches.length === 1, 'the watch');
    gateway.put(pod('a', 'Failed'));
    gateway.remove({ kind: 'Pod', namespace: 'shop', name: 'b' });
    gateway.put(pod('d', 'Pending'));
    await until(() => changes.length === 6, 'three watch events');
    expect(
      changes.slice(3).map((c) => [c.type, c.key, c.value ?? null, c.previous ?? null, c.fromList]),
    ).toEqual([
      ['upsert', 'shop/a', 'Failed', 'Running', false],
      ['delete', 'shop/b', null, 'Running', false],
      ['upsert', 'shop/d', 'Pending', null, false],
    ]);
    expect([...pods.entries()]).toEqual([
      ['shop/a', 'Failed'],
      ['shop/c', 'Running'],
      ['shop/d', 'Pending'],
    ]);
  });

  it('resumes from the last resourceVersion when the watch ends: nothing missed, nothing twice, no new list', async () => {
    const gateway = new InMemoryClusterGateway([pod('a')]);
    const { informer: pods, changes } = informer(gateway);
    await until(() => gateway.openWatches.length === 1, 'the watch');
    gateway.unreachableWatches = 2; // the API server restarts: the next two watches are refused
    gateway.endWatches();
    gateway.put(pod('a', 'Failed')); // changes while nobody watches
    gateway.put(pod('b'));
    await until(() => changes.length === 3, 'the changes made while disconnected');
    expect(changes.slice(1).map((c) => [c.key, c.value, c.fromList])).toEqual([
      ['shop/a', 'Failed', false],
      ['shop/b', 'Running', false],
    ]);
    expect(pods.stats).toMatchObject({ lists: 1, relists: 0, errors: 3 });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(changes).toHaveLength(3);
  });

  it('lists again on 410 Gone at watch start, and reports what disappeared meanwhile as deleted', async () => {
    const gateway = new InMemoryClusterGateway([pod('a'), pod('b')]);
    const { informer: pods, changes } = informer(gateway);
    await until(() => gateway.openWatches.length === 1, 'the watch');
    gateway.unreachableWatches = 1;
    gateway.endWatches();
    gateway.remove({ kind: 'Pod', namespace: 'shop', name: 'a' });
    gateway.put(pod('c', 'Failed'));
    gateway.compact(); // the versions the informer saw are compacted away
    await until(() => pods.stats.relists === 1 && gateway.openWatches.length === 1, 'the second list');
    expect(pods.stats.lists).toBe(2);
    expect(changes.slice(2).map((c) => [c.type, c.key, c.fromList])).toEqual([
      ['upsert', 'shop/b', true],
      ['upsert', 'shop/c', true],
      ['delete', 'shop/a', true],
    ]);
    expect([...pods.entries()].map(([key]) => key)).toEqual(['shop/b', 'shop/c']);
  });

  it('lists again when 410 Gone arrives as an ERROR event on an open watch', async () => {
    const gateway = new InMemoryClusterGateway([pod('a')]);
    const { informer: pods } = informer(gateway);
    await until(() => gateway.openWatches.length === 1, 'the watch');
    gateway.compact({ asEvent: true });
    await until(() => pods.stats.lists === 2, 'the second list');
    expect(pods.stats.relists).toBe(1);
    gateway.put(pod('b'));
    await until(() => pods.get('shop/b') === 'Running', 'a change after the second list');
  });

  it('backs off with growing, jittered delays while the API server is away, then recovers', async () => {
    const gateway = new InMemoryClusterGateway([pod('a')]);
    gateway.unreachableReads = 4;
    const errors: Array<{ error: unknown; retryInMs: number }> = [];
    const { informer: pods } = informer(gateway, { errors });
    await until(() => pods.synced, 'the list after four refusals');
    expect(errors).toHaveLength(4);
    expect(errors.every((e) => String(e.error).includes('ECONNREFUSED'))).toBe(true);
    expect(errors.every((e) => e.retryInMs >= 0 && e.retryInMs <= 20)).toBe(true);
    expect(pods.get('shop/a')).toBe('Running');
  });

  it('keeps only projections: thousands of pods cost what their projections cost', async () => {
    const many = Array.from({ length: 3_000 }, (_, i) => pod(`web-${i}`));
    const gateway = new InMemoryClusterGateway(many);
    const { informer: pods } = informer(gateway, { pageSize: 500 });
    await until(() => pods.synced, 'the list', 10_000);
    expect(pods.size).toBe(3_000);
    expect(gateway.reads.filter((read) => read === 'page Pod shop')).toHaveLength(6);
    expect(new Set([...pods.entries()].map(([, value]) => typeof value))).toEqual(new Set(['string']));
  });

  it('stateless: reports each object once and keeps nothing (events)', async () => {
    const gateway = new InMemoryClusterGateway([pod('a')]);
    const seen: string[] = [];
    const events = new Informer<string>(gateway, {
      kind: 'Pod',
      namespace: 'shop',
      stateless: true,
      project: (object) => `${object.metadata?.name}:${phaseOf(object)}`,
      onChange: (change) => seen.push(`${change.type} ${change.value ?? change.key}`),
    });
    started.push(events as Informer<unknown>);
    events.start();
    await until(() => gateway.openWatches.length === 1, 'the watch');
    gateway.put(pod('a', 'Failed'));
    await until(() => seen.length === 2, 'the update');
    expect(seen).toEqual(['upsert a:Running', 'upsert a:Failed']);
    expect(events.size).toBe(0);
  });
});
