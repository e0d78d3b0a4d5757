/** The action diff: YAML lines with sorted keys, hunks with context, each hunk naming its field. */
import { describe, expect, it } from 'vitest';
import { diffLines, yamlPath } from '../../src/interfaces/ui/diff-view.js';

const deployment = (memory: string, replicas = 2) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' } },
  spec: {
    replicas,
    template: {
      spec: {
        containers: [
          { name: 'sidecar', image: 'envoy:1', resources: { limits: { memory: '64Mi' } } },
          {
            name: 'api',
            image: 'api:2',
            resources: { limits: { cpu: '1', memory }, requests: { memory: '64Mi' } },
          },
        ],
      },
    },
  },
});

describe('diffLines', () => {
  it('shows only the changed field, with context, and names it in the hunk header', () => {
    const lines = diffLines(deployment('128Mi'), deployment('192Mi'));
    const changed = (kind: string) =>
      lines.filter((l) => l.kind === kind).map((l) => l.text.replace(/\s+/g, ' '));
    expect(changed('removed')).toEqual(['- memory: 128Mi']);
    expect(changed('added')).toEqual(['+ memory: 192Mi']);
    expect(lines[0]!.kind).toBe('hunk');
    expect(lines[0]!.text).toMatch(/ spec\.template\.spec\.containers\[1\]\.resources\.limits\.memory$/);
    expect(lines.filter((l) => l.kind === 'context').length).toBeGreaterThanOrEqual(3);
  });

  it('is empty when nothing differs, all added for a create, all removed for a delete', () => {
    expect(diffLines(deployment('1Gi'), deployment('1Gi'))).toEqual([]);
    const created = diffLines(undefined, deployment('1Gi'));
    expect(created.filter((l) => l.kind === 'removed')).toEqual([]);
    expect(created.filter((l) => l.kind === 'added').length).toBeGreaterThan(10);
    const deleted = diffLines(deployment('1Gi'), undefined);
    expect(deleted.filter((l) => l.kind === 'added')).toEqual([]);
  });

  it('names top-level and sequence-item fields', () => {
    const yaml = [
      'kind: Deployment',
      'spec:',
      '  replicas: 3',
      '  items:',
      '    - a: 1',
      '      b: 2',
      '    - a: 3',
    ];
    expect(yamlPath(yaml, 0)).toBe('kind');
    expect(yamlPath(yaml, 2)).toBe('spec.replicas');
    expect(yamlPath(yaml, 4)).toBe('spec.items[0].a');
    expect(yamlPath(yaml, 5)).toBe('spec.items[0].b');
    expect(yamlPath(yaml, 6)).toBe('spec.items[1].a');
    const scaled = diffLines(deployment('1Gi', 2), deployment('1Gi', 5));
    expect(scaled[0]!.text).toMatch(/ spec\.replicas$/);
  });
});
