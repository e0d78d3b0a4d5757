import {
  advice,
  builderTable,
  change,
  containerChange,
  deployment,
  workload,
} from '../../../test/support/builders.js';
import { dependencyFailure } from './dependency-failure.js';

const api = workload('Deployment', 'checkout');

builderTable('dependency-failure', dependencyFailure, [
  {
    name: 'wrong host: every variable naming it is rewritten to the Service that exists',
    details: {
      workload: api,
      dependency: 'payments',
      hostFix: { from: 'payments.shop.svc', to: 'payments.billing.svc' },
    },
    context: {
      resources: [
        deployment('checkout', {
          containers: [
            { name: 'migrate', env: [{ name: 'LOG_LEVEL', value: 'info' }] },
            {
              name: 'api',
              env: [
                { name: 'PAYMENTS_URL', value: 'http://payments.shop.svc:8080/v1' },
                { name: 'LOG_LEVEL', value: 'info' },
                { name: 'PAYMENTS_HEALTH', value: 'http://payments.shop.svc:8080/healthz' },
              ],
            },
          ],
        }),
      ],
    },
    expect: [
      change(
        'Deployment shop/checkout',
        containerChange('api', {
          env: [
            { name: 'PAYMENTS_URL', value: 'http://payments.billing.svc:8080/v1' },
            { name: 'PAYMENTS_HEALTH', value: 'http://payments.billing.svc:8080/healthz' },
          ],
        }),
        { words: ['Point PAYMENTS_URL, PAYMENTS_HEALTH of Deployment checkout at payments.billing.svc'] },
      ),
    ],
  },
  {
    name: 'no strategy applies when no variable names the host: restore the dependency',
    rootCause: 'The application cannot reach postgres.',
    details: {
      workload: api,
      dependency: 'postgres',
      hostFix: { from: 'postgres.shop.svc', to: 'postgres.db.svc' },
    },
    context: {
      resources: [
        deployment('checkout', { containers: [{ name: 'api', env: [{ name: 'DB_HOST', value: 'db' }] }] }),
      ],
    },
    expect: [
      advice('Deployment shop/checkout', [
        'Restore the dependency postgres',
        'Restart this workload only if it does not reconnect',
      ]),
    ],
  },
]);
