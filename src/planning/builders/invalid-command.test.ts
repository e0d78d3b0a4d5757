import { builderTable, workload } from '../../../test/support/builders.js';
import { invalidCommand } from './invalid-command.js';

const api = workload('Deployment', 'checkout');

builderTable('invalid-command', invalidCommand, [
  {
    name: 'rollback: the newest revision runs a command that does not exist',
    details: { workload: api, container: 'api', rollbackToRevision: 5, currentRevision: 6 },
    expect: [
      {
        type: 'rollback',
        target: 'Deployment shop/checkout',
        params: { toRevision: 5 },
        words: ['command cannot be executed'],
      },
    ],
  },
  {
    name: 'no strategy applies without a known good revision (or to a StatefulSet)',
    details: {
      workload: workload('StatefulSet', 'ledger'),
      container: 'ledger',
      rollbackToRevision: 5,
      crashLine: 'exec: "/app/ledgr": stat /app/ledgr: no such file or directory',
    },
    expect: [
      {
        type: 'manual',
        target: 'StatefulSet shop/ledger',
        words: ['Fix the container command or image', 'stat /app/ledgr'],
      },
    ],
  },
]);
