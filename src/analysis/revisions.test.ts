import { describe, expect, it } from 'vitest';
import { contextFromInput } from '../context/normalize.js';
import { Facts } from './facts.js';
import { revisionHistory } from './revisions.js';

const replicaSet = (revision: number, hash: string, container: object, ready?: number) => ({
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: {
    name: `api-${hash}`,
    namespace: 'shop',
    labels: { app: 'api', 'pod-template-hash': hash },
    annotations: { 'deployment.kubernetes.io/revision': String(revision) },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'api', controller: true }],
  },
  spec: { template: { metadata: { labels: { app: 'api' } }, spec: { containers: [container] } } },
  status: ready === undefined ? { replicas: 0 } : { replicas: ready, readyReplicas: ready },
});

const failingPod = {
  metadata: {
    name: 'api-bbb-1',
    namespace: 'shop',
    labels: { app: 'api', 'pod-template-hash': 'bbb' },
    ownerReferences: [{ kind: 'ReplicaSet', name: 'api-bbb', controller: true }],
  },
  spec: { containers: [{ name: 'api', image: 'api:2' }] },
};

function history(resources: object[]) {
  const facts = new Facts(
    contextFromInput({ issue: 'x', context: { podSpec: failingPod, resources } as never }),
  );
  return revisionHistory(facts.workload, facts.primaryPod, facts.ctx.objects, facts.pods);
}

describe('revision history', () => {
  const good = { name: 'api', image: 'api:1', command: ['gunicorn'], env: [{ name: 'A', value: '1' }] };
  const bad = { name: 'api', image: 'api:2', command: ['gunicron'], env: [{ name: 'B', value: '1' }] };

  it('says why the revision to go back to is believed good, and what changed', () => {
    const h = history([replicaSet(1, 'aaa', good, 2), replicaSet(2, 'bbb', bad)]);
    expect(h.previous?.revision).toBe(1);
    expect(h.goodBecause).toBe('its ReplicaSet api-aaa has 2/2 pod(s) ready');
    expect(h.changes).toEqual([
      'container api image api:1 → api:2',
      'container api command ["gunicorn"] → ["gunicron"]',
      'container api env added B; removed A',
    ]);
    expect(h.previousCommands.get('api')).toEqual(['gunicorn']);
  });

  it('without ready pods of an earlier revision there is no evidence, and so no good revision', () => {
    const h = history([replicaSet(1, 'aaa', good), replicaSet(2, 'bbb', bad)]);
    expect(h.previous?.revision).toBe(1);
    expect(h.goodBecause).toBeUndefined();
  });

  it('skips a broken revision in between for the last one that ran well', () => {
    const h = history([replicaSet(1, 'aaa', good, 3), replicaSet(2, 'ccc', bad), replicaSet(3, 'bbb', bad)]);
    expect(h.current?.revision).toBe(3);
    expect(h.previous?.revision).toBe(1);
  });
});
