import {
  advice,
  builderTable,
  change,
  containerChange,
  NS,
  workload,
} from '../../../test/support/builders.js';
import { hpaLimited } from './hpa-limited.js';

const api = workload('Deployment', 'checkout');
const hpa = {
  kind: 'HorizontalPodAutoscaler',
  apiVersion: 'autoscaling/v2',
  name: 'checkout',
  namespace: NS,
};

builderTable('hpa-limited', hpaLimited, [
  {
    name: 'missing request: a conservative CPU request so utilisation can be computed',
    details: { workload: api, hpa, hpaProblem: 'missing-request', resource: 'cpu', container: 'api' },
    expect: [
      change(
        'Deployment shop/checkout',
        containerChange('api', { resources: { requests: { cpu: '100m' } } }),
        { words: ['ScalingActive=True'] },
      ),
    ],
  },
  {
    name: 'at max: the ceiling grows by half (a merge patch of the autoscaler)',
    details: { workload: api, hpa, hpaProblem: 'at-max', maxReplicas: 10, desiredReplicas: 12 },
    expect: [
      change(
        'HorizontalPodAutoscaler shop/checkout',
        { spec: { maxReplicas: 15 } },
        { patchType: 'merge', words: ['from 10 to 15', 'no longer ScalingLimited'] },
      ),
    ],
  },
  {
    name: 'at max, wanting more than double: a person approves (minimum risk high)',
    details: { workload: api, hpa, hpaProblem: 'at-max', maxReplicas: 4, desiredReplicas: 20 },
    expect: [
      change(
        'HorizontalPodAutoscaler shop/checkout',
        { spec: { maxReplicas: 20 } },
        { patchType: 'merge', minimumRisk: 'high' },
      ),
    ],
  },
  {
    name: 'no strategy applies when the metrics are unavailable: cluster infrastructure',
    rootCause: 'The metrics API is unavailable.',
    details: { workload: api, hpa, hpaProblem: 'metrics-unavailable' },
    expect: [
      advice('HorizontalPodAutoscaler shop/checkout', [
        "Restore the autoscaler's metrics",
        'kubectl get apiservice v1beta1.metrics.k8s.io',
      ]),
    ],
  },
]);
