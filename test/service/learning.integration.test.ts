/**
 * The outcome history changes a decision, on the real control plane: kubemend's fix for an OOM kill
 * (a higher memory limit, still too low) is verified to fail and rolled back; the outcome is stored
 * in the session store (SQLite, with the session's final state). The same incident again, in
 * automatic mode, through a new service instance on the same database (no in-process cooldown
 * left): the fix is held for approval, and the answer's `history` shows the record and why.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClusterGateway } from '../../src/cluster/kube-gateway.js';
import { loadConfiguration } from '../../src/config/configuration.js';
import { PolicySchema } from '../../src/planning/policy.js';
import { RemediationService } from '../../src/service/remediation-service.js';
import { SqliteSessionStore } from '../../src/sessions/sqlite-session-store.js';
import {
  kubectl,
  KUBEMEND_KUBECONFIG,
  loadKubeconfig,
  oomDeployment,
  requireCluster,
  runClusterScript,
  uniqueName,
  waitFor,
} from '../cluster/cluster-harness.js';
import { temporaryDirectory } from '../storage/support.js';

const namespace = uniqueName('learning');
const directory = temporaryDirectory('kubemend-learning-');
const database = join(directory, 'kubemend.db');
let gateway: KubeClusterGateway;

function service(store: SqliteSessionStore): RemediationService {
  return new RemediationService({
    configuration: loadConfiguration({ env: {} }),
    // The default policy, with a verification window short enough for a test.
    policies: {
      policies: { default: PolicySchema.parse({ verifyTimeout: '45s' }) },
      defaultName: 'default',
      source: 'test',
    },
    cluster: gateway,
    sessions: store,
    audit: store.audit,
    actor: 'test',
    engine: { pollIntervalMs: 250, stabilityMs: 2_000 },
  });
}

const generation = () =>
  kubectl(['get', 'deployment', 'relapse', '-n', namespace, '-o', 'jsonpath={.metadata.generation}']);

/**
 * Waits until the workload is OOM-killed again on its current template only: right after a
 * rollback the pods of the rolled-back revision are still terminating (and show OOMKilled), and an
 * analysis then sees two revisions at once rather than the one OOM-killed pod.
 */
async function oomKilled(): Promise<void> {
  await waitFor(
    'relapse OOMKilled on one revision',
    async () => {
      const pods = JSON.parse(
        kubectl(['get', 'pods', '-n', namespace, '-l', 'app=relapse', '-o', 'json']),
      ) as {
        items: {
          metadata: { deletionTimestamp?: string; labels?: Record<string, string> };
          status?: { containerStatuses?: { state?: unknown; lastState?: unknown }[] };
        }[];
      };
      const hashes = new Set(pods.items.map((pod) => pod.metadata.labels?.['pod-template-hash']));
      const settled =
        pods.items.length === 1 && hashes.size === 1 && !pods.items[0]!.metadata.deletionTimestamp;
      return settled &&
        /OOMKilled|CrashLoopBackOff/.test(JSON.stringify(pods.items[0]!.status?.containerStatuses))
        ? true
        : undefined;
    },
    90_000,
  );
}

beforeAll(async () => {
  await requireCluster();
  runClusterScript('kubemend-identity.sh', [namespace]);
  gateway = new KubeClusterGateway(loadKubeconfig(KUBEMEND_KUBECONFIG));
  // The api image needs 180Mi; at a 64Mi limit kubemend's fix (~50% headroom: 96Mi) is not enough.
  kubectl(['apply', '-f', '-'], { input: oomDeployment('relapse', namespace).replace('"128Mi"', '"64Mi"') });
  await oomKilled();
});

afterAll(() => {
  kubectl(['delete', 'namespace', namespace, '--wait=false'], { timeout: 30_000 });
  rmSync(directory, { recursive: true, force: true });
});

describe('learning from outcomes against a live cluster', () => {
  it('a fix that rolled back on a workload is held for approval the second time, and the answer says why', async () => {
    const request = {
      issue: 'relapse keeps restarting',
      target: { kind: 'Deployment', namespace, name: 'relapse' },
      mode: 'automatic' as const,
    };
    const first = new SqliteSessionStore(database);
    const firstOutput = await service(first).remediate(request);
    const fix = firstOutput.remediation.actions[0]!;
    expect(fix).toMatchObject({ type: 'patch', decision: { decision: 'execute' } });
    expect(firstOutput.results?.[0]?.status, firstOutput.results?.[0]?.message).toBe('rolled-back');
    expect(firstOutput.history).toBeUndefined();
    await first.close();

    await oomKilled();
    const before = generation();
    const second = new SqliteSessionStore(database);
    const secondOutput = await service(second).remediate(request);
    const held = secondOutput.remediation.actions.find((action) => action.type === 'patch')!;
    expect(
      held,
      JSON.stringify({ analysis: secondOutput.analysis, actions: secondOutput.remediation.actions }),
    ).toBeDefined();
    expect(held.target).toEqual(fix.target);
    expect(held.decision?.decision).toBe('await-approval');
    expect(held.decision?.reason).toMatch(
      new RegExp(
        `^held for approval: patch of Deployment/${namespace}/relapse was rolled back at \\S+ \\(session ${firstOutput.sessionId}\\), within learning.holdAfterRollback \\(24h\\)$`,
      ),
    );
    expect(secondOutput.status).toBe('pending');
    expect(secondOutput.executed).toBe(false);
    expect(secondOutput.history).toMatchObject({
      records: [
        {
          category: 'oom-killed',
          actionType: 'patch',
          workload: `Deployment/${namespace}/relapse`,
          outcome: 'rolled-back',
          sessionId: firstOutput.sessionId,
          actionId: fix.id,
        },
      ],
      effects: [{ effect: 'held', actionId: held.id, reason: held.decision?.reason }],
    });
    expect(generation()).toBe(before);
    await second.close();
  });
});
