/**
 * The watcher against the in-memory API server and a recording session port: a crash-looping pod
 * is one incident however often it restarts; an API server restart (watches end, history
 * compacted: re-list) and a kubemend restart (a new watcher on the same incident store) open
 * nothing new; a recovered workload's incident closes and a new breakage after the cooldown opens
 * a new session; an incident whose session was never created gets it. Also the incident store's
 * atomic claim on SQLite (two connections on one file) and in memory.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/cluster/gateway.js';
import type { RemediateInput } from '../../src/domain/index.js';
import { InMemoryIncidentStore, type IncidentStore } from '../../src/sessions/incidents.js';
import { SqliteIncidentStore } from '../../src/sessions/sqlite-incident-store.js';
import type { SessionState } from '../../src/sessions/store.js';
import type { SessionPort } from '../../src/watch/opener.js';
import { Watcher } from '../../src/watch/watcher.js';
import { InMemoryClusterGateway } from '../support/in-memory-gateway.js';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

class RecordingSessions implements SessionPort {
  readonly inputs: RemediateInput[] = [];
  readonly states = new Map<string, SessionState>();
  async start(input: RemediateInput) {
    this.inputs.push(input);
    this.states.set(input.sessionId!, 'pending');
    return { id: input.sessionId!, createdAt: new Date().toISOString() };
  }
  async session(id: string) {
    const state = this.states.get(id);
    return state ? { state, updatedAt: new Date().toISOString() } : undefined;
  }
}

function crashingPod(name: string, restarts: number, app = 'cart'): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'shop',
      labels: { app, 'pod-template-hash': '7d9f8b6c5d' },
      ownerReferences: [
        { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${app}-7d9f8b6c5d`, controller: true, uid: 'u' },
      ],
    },
    spec: { containers: [{ name: 'main', image: 'x' }] },
    status: {
      phase: 'Running',
      containerStatuses: [
        {
          name: 'main',
          restartCount: restarts,
          state:
            restarts % 2
              ? { waiting: { reason: 'CrashLoopBackOff' } }
              : { running: { startedAt: new Date().toISOString() } },
          lastState: { terminated: { reason: 'Error', exitCode: 1, finishedAt: new Date().toISOString() } },
        },
      ],
    },
  };
}

function healthyPod(name: string, app = 'cart'): KubeObject {
  const pod = crashingPod(name, 0, app);
  return {
    ...pod,
    status: {
      phase: 'Running',
      containerStatuses: [{ name: 'main', restartCount: 0, state: { running: {} } }],
    },
  };
}

async function until(condition: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const running: Watcher[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((watcher) => watcher.stop()));
});

function watcher(
  gateway: InMemoryClusterGateway,
  incidents: IncidentStore,
  sessions: SessionPort,
  cooldownMs = 60_000,
) {
  const created = new Watcher({
    cluster: 'test',
    gateway,
    namespaces: ['shop'],
    debounceMs: 20,
    cooldownMs,
    mode: 'manual',
    incidents,
    sessions,
    logger: quiet,
  });
  running.push(created);
  created.start();
  return created;
}

describe('Watcher', () => {
  it('opens one session per crash-looping workload, however many restarts and pods', async () => {
    const gateway = new InMemoryClusterGateway([healthyPod('other-1', 'other')]);
    const sessions = new RecordingSessions();
    const w = watcher(gateway, new InMemoryIncidentStore(), sessions);
    await until(() => w.synced, 'sync');
    for (let restart = 1; restart <= 6; restart++) {
      gateway.put(crashingPod('cart-7d9f8b6c5d-aaaaa', restart));
      gateway.put(crashingPod('cart-7d9f8b6c5d-bbbbb', restart));
      await sleep(10);
    }
    await until(() => sessions.inputs.length >= 1, 'a session');
    await sleep(100);
    expect(sessions.inputs).toHaveLength(1);
    expect(sessions.inputs[0]).toMatchObject({
      target: { kind: 'Deployment', namespace: 'shop', name: 'cart' },
      mode: 'manual',
      issue: expect.stringContaining('CrashLoopBackOff'),
    });
  });

  it('an API server restart (watches end, history compacted) and a kubemend restart open nothing new', async () => {
    const gateway = new InMemoryClusterGateway([crashingPod('cart-7d9f8b6c5d-aaaaa', 3)]);
    const sessions = new RecordingSessions();
    const incidents = new InMemoryIncidentStore();
    const first = watcher(gateway, incidents, sessions);
    await until(() => sessions.inputs.length === 1, 'the first session');
    gateway.compact({ asEvent: true }); // the API server's 410 Gone on the open watches
    await until(() => first.stats.relists >= 1, 'a re-list after 410 Gone');
    gateway.put(crashingPod('cart-7d9f8b6c5d-aaaaa', 4));
    await first.stop();
    const second = watcher(gateway, incidents, sessions);
    await until(() => second.synced, 'the restarted watcher');
    gateway.put(crashingPod('cart-7d9f8b6c5d-aaaaa', 5));
    // A workload broken while nobody watched is found by the new watcher's list.
    gateway.put(crashingPod('pay-7d9f8b6c5d-ccccc', 1, 'pay'));
    await until(() => sessions.inputs.length === 2, 'the session of pay');
    await sleep(100);
    expect(sessions.inputs.map((input) => input.target?.name)).toEqual(['cart', 'pay']);
  });

  it('closes the incident when the workload recovers; after the cooldown a new breakage is a new session', async () => {
    const gateway = new InMemoryClusterGateway([crashingPod('cart-7d9f8b6c5d-aaaaa', 1)]);
    const sessions = new RecordingSessions();
    const incidents = new InMemoryIncidentStore();
    watcher(gateway, incidents, sessions, 150);
    await until(() => sessions.inputs.length === 1, 'the first session');
    gateway.put(healthyPod('cart-7d9f8b6c5d-aaaaa'));
    await until(() => incidents.all().every((row) => row.closedAt !== undefined), 'the incident closed');
    gateway.put(crashingPod('cart-7d9f8b6c5d-aaaaa', 1)); // within the cooldown: nothing
    await sleep(80);
    expect(sessions.inputs).toHaveLength(1);
    gateway.put(healthyPod('cart-7d9f8b6c5d-aaaaa'));
    await sleep(200);
    gateway.put(crashingPod('cart-7d9f8b6c5d-aaaaa', 3));
    await until(() => sessions.inputs.length === 2, 'a new session after the cooldown');
  });

  it('an incident claimed but without its session (a crash in between) gets the session', async () => {
    const incidents = new InMemoryIncidentStore();
    const key = { cluster: 'test', kind: 'Deployment', namespace: 'shop', name: 'cart', signal: 'CrashLoop' };
    await incidents.claim(key, 'watch-orphan', Date.now(), Date.now(), 60_000);
    const gateway = new InMemoryClusterGateway([crashingPod('cart-7d9f8b6c5d-aaaaa', 3)]);
    const sessions = new RecordingSessions();
    watcher(gateway, incidents, sessions);
    await until(() => sessions.inputs.length === 1, 'the missing session');
    expect(sessions.inputs[0]?.sessionId).toBe('watch-orphan');
  });
});

describe('incident store: the atomic claim', () => {
  const key = { cluster: 'c', kind: 'Deployment', namespace: 'shop', name: 'cart', signal: 'CrashLoop' };

  for (const [name, open] of [
    [
      'in memory',
      () => {
        const store = new InMemoryIncidentStore();
        return [store, store] as const;
      },
    ],
    [
      'SQLite (two connections on one file)',
      () => {
        const path = join(mkdtempSync(join(tmpdir(), 'kubemend-incidents-')), 'kubemend.db');
        return [new SqliteIncidentStore(path), new SqliteIncidentStore(path)] as const;
      },
    ],
  ] as const)
    it(`claims once, dedups while open, and again only after close + cooldown (${name})`, async () => {
      const [a, b]: readonly [IncidentStore, IncidentStore] = open();
      const claims = await Promise.all([
        a.claim(key, 's1', 1_000, 900, 500),
        b.claim(key, 's2', 1_000, 900, 500),
      ]);
      expect(claims.filter((claim) => claim.claimed)).toHaveLength(1);
      expect(claims[1]).toMatchObject({ claimed: false, incident: { sessionId: 's1' } });
      expect(await b.listOpen('c', 'shop')).toHaveLength(1);
      await b.close(key, 2_000);
      expect(await a.listOpen('c')).toHaveLength(0);
      expect((await a.claim(key, 's3', 2_400, 2_300, 500)).claimed).toBe(false); // cooling down
      const again = await b.claim(key, 's4', 2_500, 2_450, 500);
      expect(again).toMatchObject({ claimed: true, incident: { sessionId: 's4', signalAt: 2_450 } });
      expect(again.incident.closedAt).toBeUndefined();
      await a.dispose?.();
      await b.dispose?.();
    });
});
