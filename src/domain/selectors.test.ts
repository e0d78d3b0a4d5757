/**
 * selectorString: both selector shapes, rendered as `kubectl -l` does; refusals rather than a broader
 * selector. The property checks the meaning: the rendered string, parsed by the simulator's selector
 * parser (test/sim), selects exactly the label sets the structured selector selects.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchesLabelSelector } from '../../test/sim/label-selector.js';
import { type LabelSelector, selectorMatches, selectorString } from './selectors.js';

describe('selectorString', () => {
  it.each([
    ['a Service selector (equality map)', { app: 'checkout' }, 'app=checkout'],
    ['an equality map, keys sorted', { tier: 'web', app: 'checkout' }, 'app=checkout,tier=web'],
    // Regression: the investigation tools' copy read only string-valued entries of the object, so a
    // workload's `spec.selector` (matchLabels nested one level down) gave no selector at all.
    ['matchLabels', { matchLabels: { app: 'checkout' } }, 'app=checkout'],
    [
      'matchLabels, several',
      { matchLabels: { 'app.kubernetes.io/name': 'shop', app: 'x' } },
      'app=x,app.kubernetes.io/name=shop',
    ],
    [
      'matchLabels and every operator (the kubectl form)',
      {
        matchLabels: { a: 'b' },
        matchExpressions: [
          { key: 'e', operator: 'Exists' },
          { key: 'c', operator: 'In', values: ['y', 'x'] },
          { key: 'd', operator: 'DoesNotExist' },
        ],
      },
      'a=b,c in (x,y),!d,e',
    ],
    [
      'matchExpressions only',
      { matchExpressions: [{ key: 'track', operator: 'NotIn', values: ['canary'] }] },
      'track notin (canary)',
    ],
    ['an empty value', { matchLabels: { flag: '' } }, 'flag='],
    [
      'an empty value in a set (sorted first, as kubectl prints it)',
      { matchExpressions: [{ key: 'c', operator: 'In', values: ['x', ''] }] },
      'c in (,x)',
    ],
  ] as const)('%s', (_name, selector, expected) => {
    expect(selectorString(selector)).toBe(expected);
  });

  it.each([
    ['nothing', undefined],
    ['not an object', 'app=checkout'],
    ['an empty map (would select every pod)', {}],
    ['an empty LabelSelector', { matchLabels: {}, matchExpressions: [] }],
    ['an unknown operator', { matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] }],
    ['In without values', { matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }],
    ['Exists with values', { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }],
    ['a value that would smuggle a requirement', { app: 'x,tier!=db' }],
    ['a key with a space', { 'my app': 'x' }],
    ['a non-string value', { replicas: 3 }],
    ['one bad expression among good ones', { matchLabels: { a: 'b' }, matchExpressions: [{ key: 'c' }] }],
  ])('refuses %s', (_name, selector) => {
    expect(selectorString(selector)).toBeUndefined();
  });

  it('selects exactly what the structured selector selects', () => {
    const key = fc.constantFrom('app', 'tier', 'track', 'example.com/team');
    const value = fc.constantFrom('a', 'b', 'c', '');
    const requirement = fc.oneof(
      fc.record({
        key,
        operator: fc.constantFrom('In' as const, 'NotIn' as const),
        // Non-empty: the simulator's parser drops empty set members, which the API server keeps.
        values: fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 3 }),
      }),
      fc.record({ key, operator: fc.constantFrom('Exists' as const, 'DoesNotExist' as const) }),
    );
    const selector = fc.record(
      {
        matchLabels: fc.dictionary(key, value, { maxKeys: 2 }),
        matchExpressions: fc.array(requirement, { maxLength: 3 }),
      },
      { requiredKeys: [] },
    );
    const labels = fc.dictionary(key, value, { maxKeys: 4 });
    fc.assert(
      fc.property(selector, labels, (structured: LabelSelector, podLabels) => {
        const rendered = selectorString(structured);
        const requirements =
          Object.keys(structured.matchLabels ?? {}).length + (structured.matchExpressions ?? []).length;
        if (requirements === 0) return rendered === undefined;
        const expected = matches(structured, podLabels);
        return (
          matchesLabelSelector(rendered, podLabels) === expected &&
          selectorMatches(structured, podLabels) === expected
        );
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('selectorMatches', () => {
  const pod = { app: 'checkout', tier: 'web' };
  it.each([
    ['a Service selector that matches', { app: 'checkout' }, true],
    ['a Service selector with another value', { app: 'cart' }, false],
    ['a Service selector with a label the pod lacks', { app: 'checkout', track: 'stable' }, false],
    ['matchLabels', { matchLabels: { tier: 'web' } }, true],
    ['In', { matchExpressions: [{ key: 'app', operator: 'In', values: ['cart', 'checkout'] }] }, true],
    ['NotIn', { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['checkout'] }] }, false],
    ['DoesNotExist', { matchExpressions: [{ key: 'canary', operator: 'DoesNotExist' }] }, true],
    ['an empty Service selector selects nothing', {}, false],
    ['an empty LabelSelector selects nothing here', { matchLabels: {} }, false],
    ['an unknown operator selects nothing', { matchExpressions: [{ key: 'app', operator: 'Gt' }] }, false],
    ['a non-string value selects nothing', { app: 3 }, false],
  ])('%s', (_name, selector, expected) => {
    expect(selectorMatches(selector, pod)).toBe(expected);
  });
});

/** LabelSelector semantics, straight from the API reference. */
function matches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  const has = (key: string) => Object.hasOwn(labels, key);
  return (
    Object.entries(selector.matchLabels ?? {}).every(([key, value]) => has(key) && labels[key] === value) &&
    (selector.matchExpressions ?? []).every((requirement) => {
      const values = requirement.values ?? [];
      switch (requirement.operator) {
        case 'In':
          return has(requirement.key) && values.includes(labels[requirement.key]!);
        case 'NotIn':
          return !has(requirement.key) || !values.includes(labels[requirement.key]!);
        case 'Exists':
          return has(requirement.key);
        case 'DoesNotExist':
          return !has(requirement.key);
      }
    })
  );
}
