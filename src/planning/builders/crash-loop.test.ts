import {
  advice,
  builderTable,
  change,
  configMap,
  containerChange,
  rollbackTo,
  secret,
  workload,
} from '../../../test/support/builders.js';
import { crashLoop } from './crash-loop.js';

const api = workload('Deployment', 'checkout');

builderTable('crash-loop', crashLoop, [
  {
    name: 'rollback: the newest revision crashes, the previous one ran',
    details: {
      workload: api,
      container: 'api',
      rollbackToRevision: 3,
      currentRevision: 4,
      revisionChange: 'image shop/checkout:3.4 → 3.5',
    },
    expect: [
      rollbackTo('Deployment shop/checkout', 3, [
        'Roll Deployment checkout back to revision 3',
        'Revision 4 introduced the failure (image shop/checkout:3.4 → 3.5)',
      ]),
    ],
  },
  {
    name: 'config file that does not parse: the ConfigMap, its key and the line, for a person',
    details: {
      workload: api,
      container: 'api',
      configKind: 'ConfigMap',
      configName: 'checkout-conf',
      configKey: 'default.conf',
      configFile: { path: '/etc/nginx/conf.d/default.conf', line: 14, named: 'proxy_passs' },
      crashLine: 'nginx: [emerg] unknown directive "proxy_passs" in /etc/nginx/conf.d/default.conf:14',
    },
    expect: [
      advice(
        'Deployment shop/checkout',
        [
          'Fix the configuration in ConfigMap checkout-conf (key default.conf)',
          'line 14 (proxy_passs) of key default.conf of ConfigMap checkout-conf',
          'unknown directive "proxy_passs"',
        ],
        'kubectl edit configmap checkout-conf -n shop',
      ),
    ],
  },
  {
    name: 'missing variable: set from the ConfigMap key of that name',
    details: { workload: api, container: 'api', missingEnv: 'PAYMENTS_URL' },
    context: { resources: [configMap('checkout-env', { PAYMENTS_URL: 'http://payments.shop:8080' })] },
    expect: [
      change(
        'Deployment shop/checkout',
        containerChange('api', {
          env: [
            {
              name: 'PAYMENTS_URL',
              valueFrom: { configMapKeyRef: { name: 'checkout-env', key: 'PAYMENTS_URL' } },
            },
          ],
        }),
        { words: ['from ConfigMap checkout-env', 'the container stays running'] },
      ),
    ],
  },
  {
    name: 'missing variable: set from the Secret key of that name',
    details: { workload: workload('StatefulSet', 'ledger'), container: 'ledger', missingEnv: 'DB_PASSWORD' },
    context: { resources: [secret('ledger-db', { DB_PASSWORD: 'c2VjcmV0' })] },
    expect: [
      change(
        'StatefulSet shop/ledger',
        containerChange('ledger', {
          env: [
            { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 'ledger-db', key: 'DB_PASSWORD' } } },
          ],
        }),
      ),
    ],
  },
  {
    name: 'no strategy applies to a missing variable nobody holds: a person sets it',
    details: { workload: api, container: 'api', missingEnv: 'PAYMENTS_URL' },
    expect: [
      advice(
        'Deployment shop/checkout',
        ['Set the environment variable PAYMENTS_URL'],
        'kubectl set env deployment/checkout -n shop -c api PAYMENTS_URL=<value>',
      ),
    ],
  },
  {
    name: 'no strategy applies to an exhausted heap: raise the runtime heap, not the limit',
    details: {
      workload: api,
      container: 'api',
      heapExhausted: true,
      crashLine: 'java.lang.OutOfMemoryError: Java heap space',
    },
    expect: [advice('Deployment shop/checkout', ['Raise the runtime heap limit', '-Xmx', 'Java heap space'])],
  },
  {
    name: 'no strategy applies: read the previous logs and fix the application',
    details: { workload: api, container: 'api', crashLine: 'panic: nil map  ', exitCode: 2 },
    expect: [
      advice(
        'Deployment shop/checkout',
        ['Fix the application error', '("panic: nil map")', 'Exit code: 2.'],
        'kubectl logs deployment/checkout -n shop --previous',
      ),
    ],
  },
]);
