import {
  advice,
  builderTable,
  change,
  containerChange,
  deployment,
  type Manifest,
  NS,
  rollbackTo,
  secret,
  templatePatch,
  workload,
} from '../../../test/support/builders.js';
import { imagePullAuth, imagePullNotFound } from './image-pull.js';

const api = workload('Deployment', 'checkout');
const registryCredential = (name: string, registry: string): Manifest => ({
  ...secret(name, { '.dockerconfigjson': 'e30=' }, 'kubernetes.io/dockerconfigjson'),
  metadata: { name, namespace: NS, annotations: { registry } },
});

builderTable('image-pull-not-found', imagePullNotFound, [
  {
    name: 'rollback: the newest revision names an image that does not exist',
    details: { workload: api, container: 'api', image: 'shop/checkout:3.5.0-rc', rollbackToRevision: 2 },
    expect: [rollbackTo('Deployment shop/checkout', 2, ['Image shop/checkout:3.5.0-rc cannot be pulled.'])],
  },
  {
    name: 'previous image: a StatefulSet goes back to the image that ran',
    details: {
      workload: workload('StatefulSet', 'ledger'),
      container: 'ledger',
      image: 'shop/ledger:9.9',
      previousImage: 'shop/ledger:9.8',
    },
    expect: [
      change('StatefulSet shop/ledger', containerChange('ledger', { image: 'shop/ledger:9.8' }), {
        words: ['back to shop/ledger:9.8'],
      }),
    ],
  },
  {
    name: 'previous image: the tag the other Ready pods run, which the typo meant',
    details: {
      workload: workload('StatefulSet', 'cache'),
      container: 'redis',
      image: 'redis:7.2.4-alpnie',
      previousImage: 'redis:7.2.4-alpine',
      suggestedImage: 'redis:7.2.4-alpine',
    },
    expect: [
      change('StatefulSet shop/cache', containerChange('redis', { image: 'redis:7.2.4-alpine' }), {
        words: ['Did you mean redis:7.2.4-alpine?'],
      }),
    ],
  },
  {
    name: 'no strategy applies: a person sets a tag that exists',
    details: { workload: api, container: 'api', image: 'shop/checkout:typo' },
    expect: [
      advice('Deployment shop/checkout', ['kubectl set image deployment/checkout api=<image:tag> -n shop']),
    ],
  },
  {
    name: 'no strategy applies when nothing shows the earlier revision ran: the advice names it',
    details: {
      workload: api,
      container: 'api',
      image: 'shop/checkout:4.0.0-rc1',
      currentRevision: 2,
      revisionChange: 'container api image shop/checkout:3.9.0 → shop/checkout:4.0.0-rc1',
    },
    expect: [
      advice('Deployment shop/checkout', ['shop/checkout:3.9.0', 'nothing in the context shows it ran well']),
    ],
  },
]);

builderTable('image-pull-auth', imagePullAuth, [
  {
    name: 'existing credential: replaces the missing pull secret the kubelet names',
    details: { workload: api, container: 'api', image: 'registry.example.com/shop/checkout:3.5' },
    context: {
      resources: [
        deployment('checkout', {
          containers: [{ name: 'api' }],
          imagePullSecrets: [{ name: 'regcred-old' }],
        }),
        registryCredential('regcred', 'registry.example.com'),
      ],
      relatedEvents: [
        {
          type: 'Warning',
          reason: 'FailedToRetrieveImagePullSecret',
          message:
            'Unable to retrieve some image pull secrets (regcred-old); attempting to pull the image may not succeed.',
          involvedObject: { kind: 'Pod', name: 'checkout-7d9f8b6c5d-x2x4q', namespace: NS },
        },
      ],
    },
    expect: [
      change('Deployment shop/checkout', templatePatch({ imagePullSecrets: [{ name: 'regcred' }] }), {
        words: ['instead of the missing regcred-old', 'No credential is created or copied'],
      }),
    ],
  },
  {
    name: "existing credential: the one for the image's registry, when the pods reference none",
    details: { workload: api, container: 'api', image: 'registry.example.com/shop/checkout:3.5' },
    context: {
      resources: [
        deployment('checkout', { containers: [{ name: 'api' }] }),
        registryCredential('dockerhub', 'docker.io'),
        registryCredential('example-registry', 'registry.example.com'),
      ],
    },
    expect: [
      change(
        'Deployment shop/checkout',
        templatePatch({ imagePullSecrets: [{ name: 'example-registry' }] }),
        { words: ['rejects anonymous pulls', 'for registry.example.com'] },
      ),
    ],
  },
  {
    name: 'no strategy applies when the referenced credential exists: it must be rotated by a person',
    details: { workload: api, container: 'api', image: 'registry.example.com/shop/checkout:3.5' },
    context: {
      resources: [
        deployment('checkout', { containers: [{ name: 'api' }], imagePullSecrets: [{ name: 'regcred' }] }),
        registryCredential('regcred', 'registry.example.com'),
        registryCredential('other', 'registry.example.com'),
      ],
    },
    expect: [
      advice('Deployment shop/checkout', [
        'Provide registry credentials',
        'never invents or copies credentials',
      ]),
    ],
  },
]);
