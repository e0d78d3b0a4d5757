import { describe, expect, it } from 'vitest';
import { objectLabel } from './object-ref.js';

describe('objectLabel', () => {
  it.each([
    ['namespaced', { kind: 'Deployment', namespace: 'shop', name: 'checkout' }, 'Deployment/shop/checkout'],
    ['cluster-scoped', { kind: 'Node', name: 'worker-1' }, 'Node/worker-1'],
    ['an empty namespace counts as none', { kind: 'Node', namespace: '', name: 'worker-1' }, 'Node/worker-1'],
    ['unknown kind', { namespace: 'shop', name: 'checkout-7d9f' }, 'object/shop/checkout-7d9f'],
    ['unknown name', { kind: 'Pod', namespace: 'shop' }, 'Pod/shop'],
  ])('%s', (_name, reference, expected) => {
    expect(objectLabel(reference)).toBe(expected);
  });
});
