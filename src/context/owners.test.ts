import { describe, expect, it } from 'vitest';
import { normalizeObject } from './objects.js';
import { normalizePod } from './pods.js';
import { resolvePodOwner } from './owners.js';

const pod = (metadata: Record<string, unknown>) =>
  normalizePod({ apiVersion: 'v1', kind: 'Pod', metadata, spec: { containers: [] } }, 'input');

describe('owner resolution', () => {
  it('follows ownerReferences from a pod to its Deployment through the ReplicaSet name and hash', () => {
    const owner = resolvePodOwner(
      pod({
        name: 'api-7d4b9c8f6d-x2k9p',
        namespace: 'shop',
        labels: { 'pod-template-hash': '7d4b9c8f6d' },
        ownerReferences: [{ kind: 'ReplicaSet', name: 'api-7d4b9c8f6d', controller: true }],
      }),
      [],
    );
    expect(owner).toMatchObject({
      kind: 'Deployment',
      name: 'api',
      namespace: 'shop',
      apiVersion: 'apps/v1',
    });
  });

  it('prefers the ReplicaSet object when it names its Deployment', () => {
    const rs = normalizeObject(
      {
        kind: 'ReplicaSet',
        metadata: {
          name: 'web-5c9d',
          namespace: 'a',
          ownerReferences: [{ kind: 'Deployment', name: 'frontend', controller: true }],
        },
      },
      'input',
    );
    expect(
      resolvePodOwner(
        pod({
          name: 'web-5c9d-abcde',
          namespace: 'a',
          ownerReferences: [{ kind: 'ReplicaSet', name: 'web-5c9d', controller: true }],
        }),
        [rs],
      ),
    ).toMatchObject({ kind: 'Deployment', name: 'frontend', via: 'objects' });
  });

  it('infers a Deployment offline from pod-template-hash and pod naming when ownerReferences are missing', () => {
    expect(
      resolvePodOwner(
        pod({ name: 'checkout-api-5f6d7c8b9d-qwert', labels: { 'pod-template-hash': '5f6d7c8b9d' } }),
        [],
      ),
    ).toMatchObject({ kind: 'Deployment', name: 'checkout-api', via: 'naming' });
  });

  it('resolves StatefulSet, DaemonSet and Job owners', () => {
    expect(
      resolvePodOwner(
        pod({ name: 'db-0', ownerReferences: [{ kind: 'StatefulSet', name: 'db', controller: true }] }),
        [],
      ),
    ).toMatchObject({ kind: 'StatefulSet', name: 'db' });
    expect(
      resolvePodOwner(
        pod({
          name: 'db-2',
          labels: { 'controller-revision-hash': 'db-6b7', 'statefulset.kubernetes.io/pod-name': 'db-2' },
        }),
        [],
      ),
    ).toMatchObject({ kind: 'StatefulSet', name: 'db' });
    expect(
      resolvePodOwner(
        pod({
          name: 'agent-x7k2p',
          labels: { 'controller-revision-hash': '7f9', 'pod-template-generation': '3' },
        }),
        [],
      ),
    ).toMatchObject({ kind: 'DaemonSet', name: 'agent' });
    expect(
      resolvePodOwner(
        pod({ name: 'migrate-abcde', ownerReferences: [{ kind: 'Job', name: 'migrate', controller: true }] }),
        [],
      ),
    ).toMatchObject({ kind: 'Job', name: 'migrate' });
  });

  it('climbs from a Job to its CronJob', () => {
    const job = normalizeObject(
      {
        kind: 'Job',
        metadata: {
          name: 'backup-29308440',
          ownerReferences: [{ kind: 'CronJob', name: 'backup', controller: true }],
        },
      },
      'input',
    );
    expect(
      resolvePodOwner(
        pod({
          name: 'backup-29308440-kgdgs',
          ownerReferences: [{ kind: 'Job', name: 'backup-29308440', controller: true }],
        }),
        [job],
      ),
    ).toMatchObject({
      kind: 'CronJob',
      name: 'backup',
      intermediate: { kind: 'Job', name: 'backup-29308440' },
    });
  });

  it('returns nothing for a bare pod', () => {
    expect(resolvePodOwner(pod({ name: 'debug' }), [])).toBeUndefined();
  });
});
