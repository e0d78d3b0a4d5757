import { describe, expect, it } from 'vitest';
import { matchesLabelSelector } from './label-selector.js';

describe('label selectors', () => {
  const labels = { app: 'api', tier: 'web', env: 'prod' };
  it.each([
    ['app=api', true],
    ['app==api,tier=web', true],
    ['app!=api', false],
    ['env in (prod, staging)', true],
    ['env notin (prod)', false],
    ['tier', true],
    ['!legacy', true],
    ['!tier', false],
    ['', true],
  ])('%s → %s', (selector, result) => expect(matchesLabelSelector(selector, labels)).toBe(result));
});
