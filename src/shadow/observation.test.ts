import { describe, expect, it } from 'vitest';
import type { ShadowObservation } from '../domain/index.js';
import type { Comparison } from './compare.js';
import { type RoundResult, settle, shadowView, startObservation, writersSince } from './observation.js';

const started = new Date('2026-12-01T21:00:00.000Z');
const observation: ShadowObservation = startObservation(
  'oom-killed',
  [
    {
      actionId: 'a1',
      type: 'patch',
      target: 'Deployment/shop/web',
      kind: 'Deployment',
      namespace: 'shop',
      name: 'web',
      passed: true,
      message: 'server-side dry-run passed',
      before: { kind: 'Deployment', metadata: { name: 'web', uid: 'u1' }, spec: { a: 1 }, status: { x: 1 } },
      dryRun: { kind: 'Deployment', metadata: { name: 'web', uid: 'u1' }, spec: { a: 2 } },
    },
    {
      actionId: 'a2',
      type: 'restart',
      target: 'Deployment/shop/web',
      kind: 'Deployment',
      namespace: 'shop',
      name: 'web',
      passed: false,
      message: 'server-side dry-run rejected the change',
      before: { kind: 'Deployment', metadata: { name: 'web' }, spec: { a: 1 } },
    },
  ],
  started,
  60_000,
);

const comparison = (verdict: Comparison['verdict']): Comparison => ({ verdict, fields: [], reason: verdict });
const round = (verdict: Comparison['verdict'], extra: Partial<RoundResult> = {}): RoundResult => ({
  comparisons: [
    {
      actionId: 'a1',
      comparison: comparison(verdict),
      changedBy: verdict === 'unchanged' ? [] : ['kubectl-edit'],
    },
  ],
  windowOver: false,
  ...extra,
});
const later = new Date(started.getTime() + 30_000);

describe('shadow observation', () => {
  it('records the window, the bounded views (no status) and which dry-runs passed', () => {
    expect(observation.windowEndsAt).toBe('2026-12-01T21:01:00.000Z');
    expect(observation.actions[0]?.before).not.toHaveProperty('status');
    expect(observation.actions[0]?.after).toMatchObject({ spec: { a: 2 } });
    expect(observation.actions[1]).toMatchObject({ dryRun: 'failed' });
    expect(observation.actions[1]).not.toHaveProperty('after');
    expect(shadowView('nope')).toBeUndefined();
  });

  const cases: Array<[string, RoundResult, string | undefined]> = [
    ['nothing happened, time remains', round('unchanged'), undefined],
    ['a person changed it as proposed', round('matched'), 'matched'],
    ['a person changed it differently', round('contradicted'), 'contradicted'],
    [
      'window over, healthy, nobody changed it',
      round('unchanged', { windowOver: true, healthy: true }),
      'resolved-on-its-own',
    ],
    [
      'window over, still unhealthy',
      round('unchanged', { windowOver: true, healthy: false }),
      'still-broken',
    ],
    ['window over, health unknown', round('unchanged', { windowOver: true }), 'still-broken'],
    [
      'a person change wins over the window end',
      round('matched', { windowOver: true, healthy: false }),
      'matched',
    ],
    [
      'one action matched, another contradicted: contradicted',
      {
        comparisons: [
          { actionId: 'a1', comparison: comparison('matched'), changedBy: ['a'] },
          { actionId: 'a2', comparison: comparison('contradicted'), changedBy: ['a'] },
        ],
        windowOver: false,
      },
      'contradicted',
    ],
  ];
  it.each(cases)('%s', (_name, result, outcome) => {
    expect(settle(observation, result, later)?.outcome).toBe(outcome);
  });

  it('gives each action its own verdict and the session outcome to the rest', () => {
    const settled = settle(observation, round('matched'), later);
    expect(settled?.actions.map((action) => action.outcome)).toEqual(['matched', 'matched']);
    expect(settled?.actions[0]?.changedBy).toEqual(['kubectl-edit']);
    expect(settled?.observedAt).toBe(later.toISOString());
  });

  it('names the field managers that wrote during the window, not kubemend, to the second', () => {
    const object = {
      metadata: {
        managedFields: [
          { manager: 'kubectl-client-side-apply', time: '2026-12-01T20:00:00Z' },
          { manager: 'kubectl-edit', time: '2026-12-01T21:00:00Z' },
          { manager: 'kube-controller-manager', time: '2026-12-01T21:00:05Z' },
          { manager: 'kubemend', time: '2026-12-01T21:00:07Z' },
        ],
      },
    };
    expect(writersSince(object, '2026-12-01T21:00:00.400Z')).toEqual([
      'kube-controller-manager',
      'kubectl-edit',
    ]);
    expect(writersSince(undefined, '2026-12-01T21:00:00Z')).toEqual([]);
  });
});
