import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RISK_LEVELS, riskRank, type ActionDraft } from '../domain/index.js';
import { assessRisk, baseRisk } from './risk.js';

const context = { protectedNamespaces: new Set(['kube-system']) };
const target = (kind: string, namespace?: string) => ({
  apiVersion: 'apps/v1',
  kind,
  name: 'x',
  ...(namespace ? { namespace } : {}),
});
const base = { description: '', rationale: '', verification: '' };

describe('deterministic risk', () => {
  it.each<[string, ActionDraft, string]>([
    [
      'restart of a Deployment',
      { ...base, type: 'restart', target: target('Deployment', 'a'), params: {} },
      'low',
    ],
    [
      'restart of a StatefulSet',
      { ...base, type: 'restart', target: target('StatefulSet', 'a'), params: {} },
      'medium',
    ],
    [
      'resource patch of a Deployment',
      {
        ...base,
        type: 'patch',
        target: target('Deployment', 'a'),
        params: { patchType: 'strategic', patch: { spec: {} } },
      },
      'medium',
    ],
    [
      'rollback',
      { ...base, type: 'rollback', target: target('Deployment', 'a'), params: { toRevision: 3 } },
      'medium',
    ],
    [
      'scale to zero',
      { ...base, type: 'scale', target: target('Deployment', 'a'), params: { replicas: 0 } },
      'high',
    ],
    ['delete', { ...base, type: 'delete', target: target('Pod', 'a'), params: {} }, 'high'],
    [
      'cordon',
      { ...base, type: 'cordon', target: { apiVersion: 'v1', kind: 'Node', name: 'n' }, params: {} },
      'high',
    ],
    [
      'anything in kube-system',
      { ...base, type: 'restart', target: target('Deployment', 'kube-system'), params: {} },
      'high',
    ],
    ['a Role', { ...base, type: 'create', target: target('Role', 'a'), params: { manifest: {} } }, 'high'],
    [
      'a privileged patch',
      {
        ...base,
        type: 'patch',
        target: target('Deployment', 'a'),
        params: { patchType: 'strategic', patch: { spec: { privileged: true } } },
      },
      'high',
    ],
    [
      'removing a probe',
      {
        ...base,
        type: 'patch',
        target: target('Deployment', 'a'),
        params: { patchType: 'strategic', patch: { livenessProbe: null } },
      },
      'high',
    ],
    [
      'a storage object',
      {
        ...base,
        type: 'patch',
        target: target('PersistentVolumeClaim', 'a'),
        params: { patchType: 'merge', patch: {} },
      },
      'high',
    ],
  ])('%s', (_name, draft, expected) => {
    expect(baseRisk(draft, context)).toBe(expected);
  });

  it('never lowers risk, whatever a caller or model claims', () => {
    const drafts: ActionDraft[] = [
      { ...base, type: 'delete', target: target('Deployment', 'a'), params: {} },
      {
        ...base,
        type: 'patch',
        target: target('Deployment', 'a'),
        params: { patchType: 'strategic', patch: {} },
      },
      { ...base, type: 'restart', target: target('Deployment', 'a'), params: {} },
    ];
    fc.assert(
      fc.property(fc.constantFrom(...drafts), fc.constantFrom(...RISK_LEVELS), (draft, claimed) => {
        const assessed = assessRisk(draft, context, claimed);
        expect(riskRank(assessed)).toBeGreaterThanOrEqual(riskRank(baseRisk(draft, context)));
        expect(riskRank(assessed)).toBeGreaterThanOrEqual(riskRank(claimed));
      }),
    );
  });
});
