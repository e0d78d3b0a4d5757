import { builderTable, workload } from '../../../test/support/builders.js';
import { healthy } from './healthy.js';

builderTable('healthy', healthy, [
  {
    name: 'nothing is failing: nothing is proposed',
    details: { workload: workload('Deployment', 'checkout') },
    expect: [],
  },
]);
