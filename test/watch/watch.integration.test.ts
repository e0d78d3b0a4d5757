/**
 * `kubemend watch` against the real control plane and simulator: workloads broken after start get
 * one session each, within 5 s of their first failure signal; killing and restarting the API server
 * during the run (scripts/cluster/restart-apiserver.sh) loses no incident and duplicates none —
 * a crash loop that keeps restarting across the outage, a workload broken just before the outage,
 * one broken after it — and neither does a kubemend restart (new watchers, same database).
 *
 *   source /work/wt/slot5.env && scripts/cluster/with-cluster.sh \
 *     npx vitest run --project integration test/watch/watch.integration.test.ts
 */
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  kubectl,
  kubectlAsync,
  requireCluster,
  SCRIPTS_DIR,
  uniqueName,
  waitFor,
} from '../cluster/cluster-harness.js';
import {
  breakWorkload,
  createNamespace,
  deleteNamespace,
  startWatchRun,
  type WatchRun,
  watchSessions,
} from './watch-harness.js';

const namespace = uniqueName('watch-it');
let run: WatchRun;

beforeAll(async () => {
  await requireCluster();
  createNamespace(namespace);
  run = await startWatchRun(namespace);
});

afterAll(async () => {
  await run?.stop();
  deleteNamespace(namespace);
});

async function sessionOf(name: string, timeoutMs = 60_000): Promise<string[]> {
  try {
    return await waitFor(
      `a session for ${name}`,
      async () => (await watchSessions(run.app)).get(name),
      timeoutMs,
    );
  } catch (error) {
    // What the cluster shows, and what the watcher did, to tell a stuck simulator from a stuck watcher.
    process.stderr.write(
      `${kubectl(['get', 'pods', '-n', namespace, '-o', 'wide'])}\nfirst signals: ${JSON.stringify([...run.firstSignal])}\n` +
        `watcher: ${JSON.stringify(run.watching.watchers[0]?.stats)}\n`,
    );
    throw error;
  }
}

describe('kubemend watch', () => {
  it('opens one session per broken workload within 5 s of its first signal', async () => {
    await breakWorkload('pull-before', namespace, 'image');
    await breakWorkload('crash-across', namespace, 'crash');
    await sessionOf('pull-before');
    await sessionOf('crash-across');
    for (const name of ['pull-before', 'crash-across']) {
      const incident = run.incidents.find((opened) => opened.key.name === name && opened.created);
      expect(incident, name).toBeDefined();
      const latency = incident!.openedAt - run.firstSignal.get(name)!;
      expect(latency, `${name}: detection latency`).toBeLessThan(5_000);
    }
  });

  it('an API server restart and a kubemend restart lose no incident and duplicate none', async () => {
    // Broken just before the API server goes: its signals arrive just before, during or after the
    // outage. Its pod is scheduled first: the simulated kubelet must have seen it to report anything
    // (a pod bound while the API server goes away may be missed by the simulator, never by a test).
    await breakWorkload('pull-during', namespace, 'image');
    await waitFor(
      'the pod of pull-during on a node',
      async () =>
        (
          await kubectlAsync([
            'get',
            'pods',
            '-n',
            namespace,
            '-l',
            'app=pull-during',
            '-o',
            'jsonpath={.items[*].spec.nodeName}',
          ])
        ).trim() || undefined,
    );
    await promisify(execFile)(`${SCRIPTS_DIR}/restart-apiserver.sh`, ['3'], { timeout: 240_000 });
    await breakWorkload('pull-after', namespace, 'image');
    await sessionOf('pull-during');
    await sessionOf('pull-after');
    // The watchers resumed or listed again: the crash loop kept restarting across the outage.
    const stats = run.watching.watchers[0]!.stats;
    expect(stats.watches).toBeGreaterThan(5);
    await run.restartKubemend();
    await waitFor('the restarted watchers to list', async () =>
      run.watching.watchers.every((watcher) => watcher.synced) ? true : undefined,
    );
    await sleep(4_000); // more than the debounce window: a duplicate would be opened by now
    const sessions = await watchSessions(run.app);
    expect(Object.fromEntries([...sessions].map(([name, ids]) => [name, ids.length]))).toEqual({
      'pull-before': 1,
      'crash-across': 1,
      'pull-during': 1,
      'pull-after': 1,
    });
  });
});
