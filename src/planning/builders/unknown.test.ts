import { advice, builderTable, NS, pod, workload } from '../../../test/support/builders.js';
import { unknown } from './unknown.js';

builderTable('unknown', unknown, [
  {
    name: "advice only: gather the pod's signals and run kubemend again",
    context: {
      podSpec: pod('checkout-7d9f8b6c5d-x2x4q', { containers: [{ name: 'api' }] }, { owner: 'checkout' }),
    },
    expect: [
      advice(
        'Deployment shop/checkout',
        ['Collect the signals needed', 'kubectl logs pod/checkout-7d9f8b6c5d-x2x4q -n shop --previous'],
        'kubectl get events -n shop --sort-by=.lastTimestamp',
      ),
    ],
  },
  {
    name: 'advice only, about the subject the finding names; without a pod, namespace default',
    subject: { kind: 'Service', apiVersion: 'v1', name: 'checkout', namespace: NS },
    details: { workload: workload('Deployment', 'checkout') },
    expect: [advice('Service shop/checkout', ['kubectl describe pod <pod> -n default'])],
  },
]);
