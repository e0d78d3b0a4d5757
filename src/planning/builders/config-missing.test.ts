import {
  advice,
  builderTable,
  change,
  deployment,
  rollbackTo,
  templatePatch,
  workload,
} from '../../../test/support/builders.js';
import { configMissing } from './config-missing.js';

const api = workload('Deployment', 'checkout');
const template = {
  containers: [
    {
      name: 'api',
      image: 'shop/checkout:3.5',
      env: [{ name: 'DB_USER', valueFrom: { secretKeyRef: { name: 'checkout-db', key: 'user' } } }],
      envFrom: [{ configMapRef: { name: 'checkout-confg' } }, { secretRef: { name: 'checkout-db' } }],
    },
  ],
  volumes: [{ name: 'config', configMap: { name: 'checkout-confg' } }],
};

builderTable('config-missing', configMissing, [
  {
    name: 'misspelt ConfigMap: every reference (volume and envFrom) moves to the one that exists',
    details: {
      workload: api,
      configKind: 'ConfigMap',
      configName: 'checkout-confg',
      suggestedConfigName: 'checkout-config',
    },
    context: { resources: [deployment('checkout', template)] },
    expect: [
      change(
        'Deployment shop/checkout',
        templatePatch({
          volumes: [{ name: 'config', configMap: { name: 'checkout-config' } }],
          containers: [
            {
              name: 'api',
              envFrom: [
                { configMapRef: { name: 'checkout-config' } },
                { secretRef: { name: 'checkout-db' } },
              ],
            },
          ],
        }),
        { words: ['instead of the missing checkout-confg', 'most likely misspelt'] },
      ),
    ],
  },
  {
    name: 'misspelt Secret: key references keep their key',
    details: {
      workload: api,
      configKind: 'Secret',
      configName: 'checkout-db',
      suggestedConfigName: 'checkout-dbs',
    },
    context: { resources: [deployment('checkout', template)] },
    expect: [
      change(
        'Deployment shop/checkout',
        templatePatch({
          containers: [
            {
              name: 'api',
              env: [{ name: 'DB_USER', valueFrom: { secretKeyRef: { name: 'checkout-dbs', key: 'user' } } }],
              envFrom: [
                { configMapRef: { name: 'checkout-confg' } },
                { secretRef: { name: 'checkout-dbs' } },
              ],
            },
          ],
        }),
      ),
    ],
  },
  {
    name: 'rollback: no look-alike, the newest revision introduced the reference',
    details: {
      workload: api,
      configKind: 'ConfigMap',
      configName: 'checkout-flags',
      rollbackToRevision: 7,
      currentRevision: 8,
    },
    expect: [
      rollbackTo('Deployment shop/checkout', 7, [
        'references ConfigMap checkout-flags, which does not exist',
      ]),
    ],
  },
  {
    name: 'no strategy applies to a missing Secret: a person creates it, kubemend never invents secrets',
    details: { workload: api, configKind: 'Secret', configName: 'checkout-db', configKey: 'password' },
    expect: [
      advice('Deployment shop/checkout', [
        'Provide the missing key password in Secret checkout-db',
        '--from-literal=password=<value>',
        'never invents secret data',
      ]),
    ],
  },
  {
    name: 'no strategy applies to a missing ConfigMap: a person creates it',
    details: { workload: api, configKind: 'ConfigMap', configName: 'checkout-flags' },
    expect: [advice('Deployment shop/checkout', ['kubectl create configmap checkout-flags -n shop'])],
  },
  {
    name: 'no strategy applies to a missing ServiceAccount, even with a look-alike',
    details: {
      workload: api,
      configKind: 'ServiceAccount',
      configName: 'checkout-sa',
      suggestedConfigName: 'checkout',
    },
    expect: [advice('Deployment shop/checkout', ['kubectl create serviceaccount checkout-sa -n shop'])],
  },
]);
