import {
  advice,
  builderTable,
  change,
  containerChange,
  node,
  NS,
  pod,
  workload,
} from '../../../test/support/builders.js';
import { oomKilled } from './oom-killed.js';

const Mi = 1024 ** 2;
const api = workload('Deployment', 'checkout');

builderTable('oom-killed', oomKilled, [
  {
    name: 'named container: the limit grows ~50% above the peak',
    details: {
      workload: api,
      container: 'api',
      memoryLimitBytes: 256 * Mi,
      memoryRequestBytes: 128 * Mi,
      observedMemoryBytes: 250 * Mi,
    },
    context: { resources: [node('worker-1', { memory: '16Gi' })] },
    expect: [
      change(
        'Deployment shop/checkout',
        containerChange('api', { resources: { limits: { memory: '384Mi' } } }),
        { words: ['from 256Mi to 384Mi', 'peaked at 250Mi', 'container api is not OOMKilled again'] },
      ),
    ],
  },
  {
    name: 'named container of a Guaranteed pod: request and limit grow together',
    details: { workload: api, container: 'api', memoryLimitBytes: 512 * Mi, memoryRequestBytes: 512 * Mi },
    expect: [
      change(
        'Deployment shop/checkout',
        containerChange('api', {
          resources: { limits: { memory: '768Mi' }, requests: { memory: '768Mi' } },
        }),
      ),
    ],
  },
  {
    name: 'named container on small nodes: the new limit is capped below node memory',
    details: { workload: api, container: 'api', memoryLimitBytes: 400 * Mi, observedMemoryBytes: 400 * Mi },
    context: { resources: [node('worker-1', { memory: '512Mi' })] },
    expect: [
      change(
        'Deployment shop/checkout',
        containerChange('api', { resources: { limits: { memory: '448Mi' } } }),
        { words: ["capped below the largest node's allocatable memory (512Mi)"] },
      ),
    ],
  },
  {
    name: 'first container: without a container name, a JSON patch of containers/0',
    details: { workload: workload('CronJob', 'nightly-report'), memoryLimitBytes: 1024 * Mi },
    expect: [
      change(
        'CronJob shop/nightly-report',
        [
          {
            op: 'replace',
            path: '/spec/jobTemplate/spec/template/spec/containers/0/resources/limits/memory',
            value: '1536Mi',
          },
        ],
        {
          patchType: 'json',
          words: ['first container from 1Gi to 1536Mi', 'check it is the one that was killed'],
        },
      ),
    ],
  },
  {
    name: 'no strategy applies to a bare pod: recreate it with more memory',
    details: { container: 'api', memoryLimitBytes: 256 * Mi },
    context: { podSpec: pod('debug-api', { containers: [{ name: 'api' }] }) },
    expect: [advice(`Pod ${NS}/debug-api`, ['Raise the memory limit of the container', 'no controller'])],
  },
  {
    name: 'no strategy applies without a limit: the node ran out of memory',
    details: { workload: api, container: 'api', observedMemoryBytes: 900 * Mi },
    expect: [advice('Deployment shop/checkout', ['Set memory requests and a limit', '(900Mi observed)'])],
  },
  {
    name: 'no strategy applies when no node has room for more',
    details: { workload: api, container: 'api', memoryLimitBytes: 1024 * Mi },
    context: { resources: [node('worker-1', { memory: '1Gi' })] },
    expect: [advice('Deployment shop/checkout', ['Give the workload more memory', 'add larger nodes'])],
  },
]);
