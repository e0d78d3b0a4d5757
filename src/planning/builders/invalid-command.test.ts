import { advice, builderTable, rollbackTo, workload } from '../../../test/support/builders.js';
import { invalidCommand } from './invalid-command.js';

const api = workload('Deployment', 'checkout');

builderTable('invalid-command', invalidCommand, [
  {
    name: 'rollback: the newest revision runs a command that does not exist',
    details: { workload: api, container: 'api', rollbackToRevision: 5, currentRevision: 6 },
    expect: [rollbackTo('Deployment shop/checkout', 5, ['command cannot be executed'])],
  },
  {
    name: 'no strategy applies without a known good revision (or to a StatefulSet)',
    details: {
      workload: workload('StatefulSet', 'ledger'),
      container: 'ledger',
      rollbackToRevision: 5,
      crashLine: 'exec: "/app/ledgr": stat /app/ledgr: no such file or directory',
    },
    expect: [advice('StatefulSet shop/ledger', ['Fix the container command or image', 'stat /app/ledgr'])],
  },
]);
