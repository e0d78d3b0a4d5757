import {
  advice,
  builderTable,
  change,
  containerChange,
  deployment,
  node,
  pod,
  templatePatch,
  workload,
} from '../../../test/support/builders.js';
import { insufficientResources, schedulingConstraints } from './scheduling.js';

const Mi = 1024 ** 2;
const api = workload('Deployment', 'checkout');
const spreadTerm = {
  labelSelector: { matchLabels: { app: 'checkout' } },
  topologyKey: 'kubernetes.io/hostname',
};

builderTable('insufficient-resources', insufficientResources, [
  {
    name: 'oversized requests: memory and CPU resized to use plus 30%',
    details: {
      workload: api,
      container: 'api',
      memoryRequestBytes: 4096 * Mi,
      observedMemoryBytes: 300 * Mi,
      cpuRequestMillicores: 2000,
      observedCpuMillicores: 150,
    },
    expect: [
      change(
        'Deployment shop/checkout',
        containerChange('api', { resources: { requests: { memory: '448Mi', cpu: '200m' } } }),
        { words: ['Lower the requests of container api to memory 448Mi, cpu 200m', 'no FailedScheduling'] },
      ),
    ],
  },
  {
    name: "oversized requests: the pod's first container when the finding names none",
    details: { workload: api, cpuRequestMillicores: 4000, observedCpuMillicores: 500 },
    context: {
      podSpec: pod(
        'checkout-7d9f8b6c5d-x2x4q',
        { containers: [{ name: 'api' }, { name: 'sidecar' }] },
        { owner: 'checkout' },
      ),
    },
    expect: [
      change(
        'Deployment shop/checkout',
        containerChange('api', { resources: { requests: { cpu: '650m' } } }),
      ),
    ],
  },
  {
    name: 'no strategy applies when the requests match real use: capacity is a person’s decision',
    details: {
      workload: api,
      container: 'api',
      resource: 'cpu',
      cpuRequestMillicores: 2000,
      observedCpuMillicores: 1800,
    },
    expect: [advice('Deployment shop/checkout', ['No node has enough free cpu'], 'kubectl describe nodes')],
  },
]);

builderTable('scheduling-constraints', schedulingConstraints, [
  {
    name: 'selector value: the value the nodes carry',
    details: {
      workload: api,
      nodeSelectorKey: 'disktype',
      nodeSelectorValue: 'sdd',
      suggestedSelectorValue: 'ssd',
    },
    expect: [
      change('Deployment shop/checkout', templatePatch({ nodeSelector: { disktype: 'ssd' } }), {
        words: ['No node carries disktype=sdd'],
      }),
    ],
  },
  {
    name: 'dedicated taint: tolerated with its effect, existing tolerations kept, admission defaults dropped',
    details: { workload: api, taint: { key: 'dedicated', value: 'payments' } },
    context: {
      resources: [
        node('pool-a-1', { taints: [{ key: 'dedicated', value: 'payments', effect: 'NoExecute' }] }),
        deployment('checkout', {
          containers: [{ name: 'api' }],
          tolerations: [
            { key: 'gpu', operator: 'Exists', effect: 'NoSchedule' },
            {
              key: 'node.kubernetes.io/not-ready',
              operator: 'Exists',
              effect: 'NoExecute',
              tolerationSeconds: 300,
            },
          ],
        }),
      ],
    },
    expect: [
      change(
        'Deployment shop/checkout',
        templatePatch({
          tolerations: [
            { key: 'gpu', operator: 'Exists', effect: 'NoSchedule' },
            { key: 'dedicated', operator: 'Equal', value: 'payments', effect: 'NoExecute' },
          ],
        }),
        { minimumRisk: 'medium', words: ['dedicated=payments:NoExecute'] },
      ),
    ],
  },
  {
    name: 'hard anti-affinity: the required terms become preferred ones',
    details: { workload: api, placementRule: 'pod-anti-affinity' },
    context: {
      resources: [
        deployment('checkout', {
          containers: [{ name: 'api' }],
          affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [spreadTerm] } },
        }),
      ],
    },
    expect: [
      change(
        'Deployment shop/checkout',
        templatePatch({
          affinity: {
            podAntiAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: null,
              preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: spreadTerm }],
            },
          },
        }),
      ),
    ],
  },
  {
    name: 'hard spread: DoNotSchedule becomes ScheduleAnyway',
    details: { workload: api, placementRule: 'topology-spread' },
    context: {
      resources: [
        deployment('checkout', {
          containers: [{ name: 'api' }],
          topologySpreadConstraints: [
            { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule' },
          ],
        }),
      ],
    },
    expect: [
      change(
        'Deployment shop/checkout',
        templatePatch({
          topologySpreadConstraints: [
            { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' },
          ],
        }),
      ),
    ],
  },
  {
    name: 'no strategy applies to a control-plane taint: a person decides',
    rootCause: 'Every node is tainted node-role.kubernetes.io/control-plane.',
    details: { workload: api, taint: { key: 'node-role.kubernetes.io/control-plane' } },
    expect: [
      advice('Deployment shop/checkout', [
        'Relax the placement rules or label nodes',
        'Every node is tainted node-role.kubernetes.io/control-plane.',
      ]),
    ],
  },
]);
