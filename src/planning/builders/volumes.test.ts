import {
  advice,
  builderTable,
  change,
  deployment,
  node,
  NS,
  workload,
} from '../../../test/support/builders.js';
import { volumeMountFailure, volumePending } from './volumes.js';

const api = workload('Deployment', 'checkout');
const storageClass = {
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: { name: 'standard' },
};

builderTable('volume-pending', volumePending, [
  {
    name: 'advice only: a claim naming a class that does not exist',
    rootCause: 'PersistentVolumeClaim data-ledger-0 waits for StorageClass fast-ssd, which does not exist.',
    details: { claimName: 'data-ledger-0', storageClass: 'fast-ssd' },
    context: {
      resources: [
        storageClass,
        {
          apiVersion: 'v1',
          kind: 'PersistentVolumeClaim',
          metadata: { name: 'data-ledger-0', namespace: NS },
        },
      ],
    },
    expect: [
      advice(
        'PersistentVolumeClaim shop/data-ledger-0',
        [
          'StorageClass fast-ssd must exist (kubectl get storageclass; present: standard)',
          'cannot be changed',
        ],
        'kubectl describe pvc data-ledger-0 -n shop',
      ),
    ],
  },
]);

builderTable('volume-mount-failure', volumeMountFailure, [
  {
    name: 'recreate strategy: a ReadWriteOnce volume caught in a rolling update',
    details: { workload: api, resource: 'multi-attach' },
    context: {
      resources: [
        deployment('checkout', { containers: [{ name: 'api' }] }, { strategy: { type: 'RollingUpdate' } }),
        node('worker-1'),
      ],
    },
    expect: [
      change(
        'Deployment shop/checkout',
        { spec: { strategy: { type: 'Recreate', rollingUpdate: null } } },
        { words: ['Switch Deployment checkout to the Recreate strategy'] },
      ),
    ],
  },
  {
    name: 'no strategy applies while a node is down: the old node may still write',
    details: { workload: api, resource: 'multi-attach' },
    context: { resources: [node('worker-1', { ready: false }), node('worker-2')] },
    expect: [
      advice(
        'Deployment shop/checkout',
        ['Repair the volume attachment', 'Never force-delete pods'],
        'kubectl get volumeattachments',
      ),
    ],
  },
]);
