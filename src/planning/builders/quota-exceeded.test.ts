import {
  advice,
  builderTable,
  change,
  containerChange,
  deployment,
  type Manifest,
  workload,
} from '../../../test/support/builders.js';
import { quotaExceeded } from './quota-exceeded.js';

const Mi = 1024 ** 2;
const api = workload('Deployment', 'checkout');
const withRequests = (resources: Record<string, unknown>): Manifest =>
  deployment('checkout', { containers: [{ name: 'api', resources }] });

builderTable('quota-exceeded', quotaExceeded, [
  {
    name: 'oversized request: the memory request is sized to real use, an oversized limit follows',
    details: { workload: api, quotaName: 'shop-quota' },
    context: {
      resources: [withRequests({ requests: { memory: '2Gi' }, limits: { memory: '4Gi' } })],
      metrics: { memory_working_set_bytes: [{ v: 200 * Mi }, { v: 300 * Mi }] },
    },
    expect: [
      change(
        'Deployment shop/checkout',
        containerChange('api', {
          resources: { requests: { memory: '448Mi' }, limits: { memory: '640Mi' } },
        }),
        { words: ['request 2Gi each but use about 300Mi', 'no FailedCreate'] },
      ),
    ],
  },
  {
    name: 'oversized request with a modest limit: only the request changes',
    details: { workload: api, quotaName: 'shop-quota' },
    context: {
      resources: [withRequests({ requests: { memory: '1Gi' }, limits: { memory: '1Gi' } })],
      metrics: { container_memory_working_set_bytes: 400 * Mi },
    },
    expect: [
      change(
        'Deployment shop/checkout',
        containerChange('api', { resources: { requests: { memory: '576Mi' } } }),
      ),
    ],
  },
  {
    name: 'no strategy applies when the requests match use: the quota is a governance decision',
    details: { workload: api, quotaName: 'shop-quota' },
    context: {
      resources: [withRequests({ requests: { memory: '512Mi' } })],
      metrics: { memory_working_set_bytes: 400 * Mi },
    },
    expect: [
      advice(
        'ResourceQuota shop/shop-quota',
        ['Raise the quota or reduce the requests', 'kubectl edit resourcequota shop-quota -n shop'],
        'kubectl describe resourcequota shop-quota -n shop',
      ),
    ],
  },
]);
