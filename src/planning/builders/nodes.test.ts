import {
  advice,
  builderTable,
  change,
  containerChange,
  pod,
  workload,
} from '../../../test/support/builders.js';
import { nodeNotReady, nodePressure } from './nodes.js';

const api = workload('Deployment', 'checkout');

function evicted(message: string): ReturnType<typeof pod> {
  return pod(
    'checkout-7d9f8b6c5d-x2x4q',
    { containers: [{ name: 'api' }] },
    { owner: 'checkout', status: { phase: 'Failed', reason: 'Evicted', message } },
  );
}

builderTable('node-not-ready', nodeNotReady, [
  {
    name: 'advice only: a person who can reach the node restores or replaces it',
    details: { nodeName: 'worker-3' },
    expect: [
      advice(
        'Node worker-3',
        ['Restore node worker-3', 'kubectl cordon worker-3'],
        'kubectl describe node worker-3',
      ),
    ],
  },
]);

builderTable('node-pressure-eviction', nodePressure, [
  {
    name: 'memory request: raised to the use the kubelet quoted, plus 20%',
    details: { workload: api, container: 'api', resource: 'memory', nodeName: 'worker-1' },
    context: {
      podSpec: evicted(
        'The node was low on resource: memory. Threshold quantity: 100Mi, available: 90Mi. Container api was using 700Mi, request is 256Mi, has larger consumption of memory.',
      ),
    },
    expect: [
      change(
        'Deployment shop/checkout',
        containerChange('api', { resources: { requests: { memory: '896Mi' } } }),
        { words: ['used 700Mi against a request of 256Mi', 'no new evictions'] },
      ),
    ],
  },
  {
    name: 'ephemeral-storage limit: doubled',
    details: { workload: api, container: 'api', resource: 'ephemeral-storage', storageLimit: '1Gi' },
    context: {
      podSpec: evicted('Pod ephemeral local storage usage exceeds the total limit of containers 1Gi.'),
    },
    expect: [
      change(
        'Deployment shop/checkout',
        containerChange('api', { resources: { limits: { 'ephemeral-storage': '2Gi' } } }),
        { words: ['from 1Gi to 2Gi'] },
      ),
    ],
  },
  {
    name: 'no strategy applies to disk pressure: node cleanup is an operator task',
    rootCause: 'Node worker-1 is under disk pressure.',
    details: { workload: api, resource: 'ephemeral-storage', nodeName: 'worker-1' },
    expect: [advice('Deployment shop/checkout', ['Relieve the node pressure', 'on node worker-1'])],
  },
]);
