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
    name: 'rollback: names the command the good revision runs when the new one is a typo of it',
    details: {
      workload: api,
      container: 'api',
      rollbackToRevision: 5,
      currentRevision: 6,
      goodRevisionEvidence: 'its ReplicaSet checkout-5c8d has 2/2 pod(s) ready',
      suggestedCommand: 'gunicorn',
    },
    expect: [
      rollbackTo('Deployment shop/checkout', 5, [
        'is believed good: its ReplicaSet checkout-5c8d has 2/2 pod(s) ready',
        'Did you mean "gunicorn"? Revision 5 runs it.',
      ]),
    ],
  },
  {
    name: 'no revision known good: the advice says what the command probably meant',
    details: {
      workload: api,
      container: 'api',
      executable: 'gunicron',
      suggestedCommand: 'gunicorn',
      crashLine: 'exec: "gunicron": executable file not found in $PATH',
    },
    expect: [advice('Deployment shop/checkout', ['command "gunicron"', 'Did you mean "gunicorn"?'])],
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
