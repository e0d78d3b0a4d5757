import { advice, builderTable, change, rollbackTo, workload } from '../../../test/support/builders.js';
import { rolloutStuck } from './rollout-stuck.js';

const api = workload('Deployment', 'checkout');

builderTable('rollout-stuck', rolloutStuck, [
  {
    name: 'paused: the rollout is resumed (a merge patch)',
    details: { workload: api, resource: 'paused', rollbackToRevision: 3 },
    expect: [
      change(
        'Deployment shop/checkout',
        { spec: { paused: false } },
        { patchType: 'merge', words: ['Resume the rollout of Deployment checkout'] },
      ),
    ],
  },
  {
    name: 'rollback: the new revision never became available',
    details: { workload: api, rollbackToRevision: 3, currentRevision: 4 },
    expect: [rollbackTo('Deployment shop/checkout', 3, ['never became available'])],
  },
  {
    name: 'no strategy applies without a previous revision',
    rootCause: 'Deployment checkout exceeded its progress deadline.',
    details: { workload: api },
    expect: [
      advice('Deployment shop/checkout', [
        'Find why the new pods do not become available',
        'exceeded its progress deadline',
      ]),
    ],
  },
]);
