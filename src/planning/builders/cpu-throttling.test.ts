import {
  advice,
  builderTable,
  change,
  containerChange,
  pod,
  workload,
} from '../../../test/support/builders.js';
import { cpuThrottling } from './cpu-throttling.js';

const api = workload('Deployment', 'checkout');

builderTable('cpu-throttling', cpuThrottling, [
  {
    name: 'raise limit: doubled, requests unchanged',
    details: {
      workload: api,
      container: 'api',
      cpuLimitMillicores: 500,
      observedCpuMillicores: 480,
      throttledRatio: 0.62,
    },
    expect: [
      change('Deployment shop/checkout', containerChange('api', { resources: { limits: { cpu: '1' } } }), {
        words: [
          'from 500m to 1',
          'throttled in 62% of CFS periods',
          'usage reaches 480m',
          'Requests are unchanged',
        ],
      }),
    ],
  },
  {
    name: 'raise limit: at least 1.5× the observed use, rounded up to 100m',
    details: {
      workload: api,
      container: 'api',
      cpuLimitMillicores: 200,
      observedCpuMillicores: 390,
      throttledRatio: 0.8,
    },
    expect: [
      change('Deployment shop/checkout', containerChange('api', { resources: { limits: { cpu: '600m' } } })),
    ],
  },
  {
    name: 'no strategy applies to a bare pod: a person raises the limit',
    rootCause: 'Container api is throttled.',
    details: { container: 'api', cpuLimitMillicores: 500 },
    context: { podSpec: pod('debug-api', { containers: [{ name: 'api' }] }) },
    expect: [advice('Pod shop/debug-api', ['Raise the CPU limit', 'Container api is throttled.'])],
  },
]);
