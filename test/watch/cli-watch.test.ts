/** `kubemend watch` flags: merged into the one configuration's `watch` section, validated there. */
import { describe, expect, it } from 'vitest';
import { watchConfiguration } from '../../src/interfaces/cli/watch.js';

describe('kubemend watch: its configuration', () => {
  it('takes namespaces, mode, policy, debounce and cooldown from flags', () => {
    const { watch } = watchConfiguration({
      namespace: 'shop, payments',
      mode: 'hybrid',
      debounce: '2s',
      cooldown: '10m',
    });
    expect(watch).toMatchObject({
      namespaces: ['shop', 'payments'],
      mode: 'hybrid',
      debounce: '2s',
      cooldown: '10m',
    });
  });

  it('refuses no namespace, a bad duration and an unknown cluster, naming the setting', () => {
    expect(() => watchConfiguration({})).toThrow(/name the namespaces to watch/);
    expect(() => watchConfiguration({ namespace: 'shop', debounce: 'soon' })).toThrow(/watch\.debounce/);
    expect(() => watchConfiguration({ namespace: 'Shop!' })).toThrow(/watch\.namespaces\[0\]/);
    expect(() => watchConfiguration({ namespace: 'shop', cluster: 'prod' })).toThrow(
      /watch\.clusters\[0\].*no clusters are configured/,
    );
  });
});
