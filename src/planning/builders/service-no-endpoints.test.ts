import { advice, builderTable, change, NS } from '../../../test/support/builders.js';
import { serviceNoEndpoints } from './service-no-endpoints.js';

const service = { kind: 'Service', apiVersion: 'v1', name: 'checkout', namespace: NS };

builderTable('service-no-endpoints', serviceNoEndpoints, [
  {
    name: 'selector: the labels the pods carry',
    details: { service, selectorFix: { app: 'checkout' } },
    expect: [
      change(
        'Service shop/checkout',
        { spec: { selector: { app: 'checkout' } } },
        { words: ['Fix the selector of Service checkout: app=checkout', 'at least one ready endpoint'] },
      ),
    ],
  },
  {
    name: 'target port: the port the pods listen on, for the Service port at that index',
    details: { service, suggestedPort: 8080, servicePortIndex: 1 },
    context: {
      resources: [
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'checkout', namespace: NS },
          spec: {
            selector: { app: 'checkout' },
            ports: [
              { name: 'metrics', port: 9090 },
              { name: 'http', port: 80, targetPort: 8000 },
            ],
          },
        },
      ],
    },
    expect: [
      change(
        'Service shop/checkout',
        { spec: { ports: [{ port: 80, targetPort: 8080 }] } },
        { words: ['Send Service checkout port 80 to targetPort 8080'] },
      ),
    ],
  },
  {
    name: 'no strategy applies: a person compares the selector with the pod labels',
    details: { service },
    expect: [
      advice('Service shop/checkout', ['Make the Service select ready pods', 'kubectl get svc checkout']),
    ],
  },
]);
