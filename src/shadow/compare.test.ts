import { describe, expect, it } from 'vitest';
import { compareWithProposal, type ComparisonInput, type Verdict } from './compare.js';

function deployment(container: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    metadata: { name: 'web', namespace: 'shop', uid: 'u1', generation: 3 },
    spec: {
      replicas: 2,
      template: {
        metadata: { annotations: {} as Record<string, string> },
        spec: { containers: [{ name: 'web', image: 'web:1.1', ...container }] },
      },
      ...extra,
    },
  };
}

const memory = (value: string) => ({ resources: { limits: { memory: value } } });
const probe = (port: number) => ({ readinessProbe: { httpGet: { path: '/', port } } });
const stamped = (at: string) => {
  const object = deployment({});
  object.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt'] = at;
  return object;
};

const cases: Array<[string, ComparisonInput, Verdict]> = [
  [
    'memory limit raised as proposed',
    {
      type: 'patch',
      before: deployment(memory('64Mi')),
      proposed: deployment(memory('128Mi')),
      observed: deployment(memory('128Mi')),
    },
    'matched',
  ],
  [
    'memory limit raised, by another amount',
    {
      type: 'patch',
      before: deployment(memory('64Mi')),
      proposed: deployment(memory('128Mi')),
      observed: deployment(memory('1Gi')),
    },
    'matched',
  ],
  [
    'memory limit lowered',
    {
      type: 'patch',
      before: deployment(memory('64Mi')),
      proposed: deployment(memory('128Mi')),
      observed: deployment(memory('32Mi')),
    },
    'contradicted',
  ],
  [
    'image changed instead of the memory limit',
    {
      type: 'patch',
      before: deployment(memory('64Mi')),
      proposed: deployment(memory('128Mi')),
      observed: deployment({ ...memory('64Mi'), image: 'web:2.0' }),
    },
    'contradicted',
  ],
  [
    'nothing changed',
    {
      type: 'patch',
      before: deployment(memory('64Mi')),
      proposed: deployment(memory('128Mi')),
      observed: deployment(memory('64Mi')),
    },
    'unchanged',
  ],
  [
    'memory raised and the image changed too',
    {
      type: 'patch',
      before: deployment(memory('64Mi')),
      proposed: deployment(memory('128Mi')),
      observed: deployment({ ...memory('256Mi'), image: 'web:2.0' }),
    },
    'matched',
  ],
  [
    'image rolled back to the previous one',
    {
      type: 'rollback',
      before: deployment({ image: 'web:bad' }),
      proposed: deployment({ image: 'web:1.1' }),
      observed: deployment({ image: 'web:1.1' }),
    },
    'matched',
  ],
  [
    'image changed to a third one instead of the rollback',
    {
      type: 'rollback',
      before: deployment({ image: 'web:bad' }),
      proposed: deployment({ image: 'web:1.1' }),
      observed: deployment({ image: 'web:1.2' }),
    },
    'contradicted',
  ],
  [
    'replicas increased (scale)',
    {
      type: 'scale',
      before: deployment({}, { replicas: 1 }),
      proposed: deployment({}, { replicas: 3 }),
      observed: deployment({}, { replicas: 2 }),
    },
    'matched',
  ],
  [
    'replicas decreased (scale)',
    {
      type: 'scale',
      before: deployment({}, { replicas: 2 }),
      proposed: deployment({}, { replicas: 3 }),
      observed: deployment({}, { replicas: 1 }),
    },
    'contradicted',
  ],
  [
    'probe port changed to the proposed port',
    {
      type: 'patch',
      before: deployment(probe(8080)),
      proposed: deployment(probe(80)),
      observed: deployment(probe(80)),
    },
    'matched',
  ],
  [
    'probe port changed to another port (ports are not ordered)',
    {
      type: 'patch',
      before: deployment(probe(8080)),
      proposed: deployment(probe(80)),
      observed: deployment(probe(81)),
    },
    'contradicted',
  ],
  [
    'restarted by a person (a new stamp)',
    {
      type: 'restart',
      before: deployment({}),
      proposed: stamped('2026-12-01T21:00:00Z'),
      observed: stamped('2026-12-01T21:03:10Z'),
    },
    'matched',
  ],
  [
    'replicas changed by the HPA only (a controller)',
    {
      type: 'scale',
      before: deployment({}, { replicas: 1 }),
      proposed: deployment({}, { replicas: 3 }),
      observed: deployment({}, { replicas: 3 }),
      changedBy: ['kube-controller-manager'],
    },
    'unchanged',
  ],
  [
    'a person and a controller wrote',
    {
      type: 'scale',
      before: deployment({}, { replicas: 1 }),
      proposed: deployment({}, { replicas: 3 }),
      observed: deployment({}, { replicas: 3 }),
      changedBy: ['kube-controller-manager', 'kubectl-edit'],
    },
    'matched',
  ],
  ['created by a person', { type: 'create', proposed: deployment({}), observed: deployment({}) }, 'matched'],
  ['not created', { type: 'create', proposed: deployment({}) }, 'unchanged'],
  ['pod deleted', { type: 'delete', before: deployment({}) }, 'matched'],
  [
    'pod deleted and recreated under the same name',
    {
      type: 'delete',
      before: deployment({}),
      observed: { ...deployment({}), metadata: { name: 'web', uid: 'u2' } },
    },
    'matched',
  ],
  ['pod left alone', { type: 'delete', before: deployment({}), observed: deployment({}) }, 'unchanged'],
  [
    'the patched object was deleted instead',
    { type: 'patch', before: deployment(memory('64Mi')), proposed: deployment(memory('128Mi')) },
    'contradicted',
  ],
  [
    'cordon: node made unschedulable by a person',
    {
      type: 'cordon',
      before: { spec: {} },
      proposed: { spec: { unschedulable: true } },
      observed: { spec: { unschedulable: true } },
    },
    'matched',
  ],
];

describe('compareWithProposal', () => {
  it.each(cases)('%s', (_name, input, verdict) => {
    expect(compareWithProposal(input).verdict).toBe(verdict);
  });

  it('names the proposed fields with before, proposed and observed values', () => {
    const result = compareWithProposal({
      type: 'patch',
      before: deployment(memory('64Mi')),
      proposed: deployment(memory('128Mi')),
      observed: deployment(memory('96Mi')),
    });
    expect(result.fields).toEqual([
      {
        path: 'spec.template.spec.containers.0.resources.limits.memory',
        before: '64Mi',
        proposed: '128Mi',
        observed: '96Mi',
      },
    ]);
    expect(result.reason).toContain('changed as proposed');
  });

  it('keeps an annotation key with dots whole in the path', () => {
    const result = compareWithProposal({
      type: 'restart',
      before: deployment({}),
      proposed: stamped('a'),
      observed: deployment({}),
    });
    expect(result.fields[0]?.path).toBe(
      'spec.template.metadata.annotations.kubectl.kubernetes.io/restartedAt',
    );
    expect(result.verdict).toBe('unchanged');
  });
});
