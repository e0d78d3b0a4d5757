import { describe, expect, it } from 'vitest';
import { explicitNamespaces, namespacesNamed, type NamedObject, objectNamed, occurrences } from './words.js';

const NAMESPACES = ['default', 'kube-system', 'shop', 'payments', 'shop-staging', 'data'];
const OBJECTS: NamedObject[] = [
  { kind: 'Deployment', namespace: 'shop', name: 'checkout' },
  { kind: 'Service', namespace: 'shop', name: 'checkout' },
  { kind: 'Deployment', namespace: 'shop', name: 'payment-api' },
  { kind: 'Service', namespace: 'shop', name: 'payment-api' },
  { kind: 'Pod', namespace: 'shop', name: 'checkout-7d9f8b6c5d-x2k4p' },
  { kind: 'PersistentVolumeClaim', namespace: 'shop', name: 'orders-db' },
  { kind: 'StatefulSet', namespace: 'shop', name: 'orders-db' },
  { kind: 'Service', namespace: 'shop', name: 'web' },
];

const chosen = (text: string, objects = OBJECTS) => {
  const match = objectNamed(text.toLowerCase(), objects);
  return match ? `${match.chosen.kind}/${match.chosen.name}` : undefined;
};

describe('words → names of the cluster', () => {
  it.each([
    ['the checkout service in the shop namespace is down, can you fix it?', ['shop']],
    ['pods in -n shop keep restarting', ['shop']],
    ['namespace: payments is slow', ['payments']],
    ['Shop-Staging is broken', ['shop-staging']],
    ['everything in shop and payments fails', ['shop', 'payments']],
    ['the default route is broken', []],
    ['look at the default namespace', ['default']],
    ['shopping cart is empty', []],
    ['the data pipeline stopped', []],
    ['ns/data looks wrong', ['data']],
  ])('%s → %j', (text, expected) => {
    expect(namespacesNamed(text.toLowerCase(), NAMESPACES)).toEqual(expected);
  });

  it('reads explicit namespace phrases', () => {
    expect(explicitNamespaces('kubectl get pods -n shop')).toEqual(['shop']);
    expect(explicitNamespaces('in the payments namespace')).toEqual(['payments']);
    expect(explicitNamespaces('namespace called "billing"')).toEqual(['billing']);
  });

  it('matches whole names only, with dashes and spaces alike', () => {
    expect(occurrences('payment api is down', 'payment-api')).toHaveLength(1);
    expect(occurrences('payment_api is down', 'payment-api')).toHaveLength(1);
    expect(occurrences('checkout-api is down', 'checkout')).toHaveLength(0);
    expect(occurrences('checkouts are failing', 'checkout')).toHaveLength(0);
    expect(occurrences("checkout's pods", 'checkout')).toHaveLength(1);
  });

  it.each([
    // "service" is what people call an application: the workload of that name wins.
    ['the checkout service is down', 'Deployment/checkout'],
    // `svc` (or a kind word) is explicit.
    ['svc checkout has no endpoints', 'Service/checkout'],
    ['deploy/checkout keeps crashing', 'Deployment/checkout'],
    ['the checkout pod restarts', 'Deployment/checkout'],
    ['the payment api returns 502', 'Deployment/payment-api'],
    ['the orders-db pvc is pending', 'PersistentVolumeClaim/orders-db'],
    ['orders-db will not start', 'StatefulSet/orders-db'],
    ['pod checkout-7d9f8b6c5d-x2k4p is OOMKilled', 'Pod/checkout-7d9f8b6c5d-x2k4p'],
    ['web returns 503', 'Service/web'],
    ['the cart is empty', undefined],
  ])('%s → %s', (text, expected) => {
    expect(chosen(text)).toBe(expected);
  });

  it('takes the name mentioned first and lists the others', () => {
    const match = objectNamed('checkout cannot reach payment-api', OBJECTS)!;
    expect(match.chosen).toMatchObject({ kind: 'Deployment', name: 'checkout' });
    expect(match.others.map((o) => `${o.kind}/${o.name}`)).toEqual([
      'Service/checkout',
      'Deployment/payment-api',
      'Service/payment-api',
    ]);
  });

  it('never returns a name the cluster does not have', () => {
    expect(objectNamed('the frontend is down', OBJECTS)).toBeUndefined();
  });
});
