import { describe, expect, it } from 'vitest';
import type { RemediationAction } from '../domain/index.js';
import { builtInPolicies, decide, effectiveMode, namespaceAllowed, PolicySchema } from './policy.js';

const policy = builtInPolicies().default!;
const action = (overrides: Partial<RemediationAction> & Pick<RemediationAction, 'type'>): RemediationAction =>
  ({
    id: 'a1',
    target: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api', namespace: 'shop' },
    params: overrides.type === 'manual' ? { instructions: 'do it' } : {},
    description: '',
    command: '',
    risk: 'medium',
    rationale: '',
    verification: '',
    ...overrides,
  }) as RemediationAction;

describe('policy decisions', () => {
  it('manual mode never executes', () => {
    expect(
      decide(action({ type: 'restart', risk: 'low' }), { mode: 'manual', policy, confidence: 0.99 }).decision,
    ).toBe('await-approval');
  });

  it('hybrid executes low risk at high confidence and holds the rest', () => {
    expect(
      decide(action({ type: 'restart', risk: 'low' }), { mode: 'hybrid', policy, confidence: 0.9 }).decision,
    ).toBe('execute');
    expect(
      decide(action({ type: 'patch', risk: 'medium' }), { mode: 'hybrid', policy, confidence: 0.9 }).decision,
    ).toBe('await-approval');
    expect(
      decide(action({ type: 'restart', risk: 'low' }), { mode: 'hybrid', policy, confidence: 0.5 }).decision,
    ).toBe('await-approval');
  });

  it('automatic executes what policy allows, up to its risk ceiling', () => {
    expect(
      decide(action({ type: 'patch', risk: 'medium' }), { mode: 'automatic', policy, confidence: 0.9 })
        .decision,
    ).toBe('execute');
    expect(
      decide(action({ type: 'patch', risk: 'high' }), { mode: 'automatic', policy, confidence: 0.9 })
        .decision,
    ).toBe('await-approval');
  });

  it('denies protected namespaces, disallowed types and cluster-scoped kinds', () => {
    expect(
      decide(
        action({
          type: 'restart',
          risk: 'low',
          target: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'coredns', namespace: 'kube-system' },
        }),
        { mode: 'automatic', policy, confidence: 1 },
      ).decision,
    ).toBe('denied');
    expect(
      decide(action({ type: 'delete', risk: 'high' }), { mode: 'automatic', policy, confidence: 1 }).decision,
    ).toBe('denied');
    expect(
      decide(
        action({ type: 'patch', risk: 'high', target: { apiVersion: 'v1', kind: 'Node', name: 'n1' } }),
        { mode: 'automatic', policy, confidence: 1 },
      ).decision,
    ).toBe('denied');
    expect(
      decide(action({ type: 'manual', risk: 'low' }), { mode: 'automatic', policy, confidence: 1 }).decision,
    ).toBe('advice');
  });

  it('limits a request to the policy mode', () => {
    expect(effectiveMode('automatic', builtInPolicies().conservative!)).toBe('manual');
    expect(effectiveMode('automatic', builtInPolicies()['auto-low-risk']!)).toBe('hybrid');
    expect(effectiveMode('manual', policy)).toBe('manual');
  });

  it('orders modes shadow < manual < hybrid < automatic: a policy with mode shadow forces shadow', () => {
    const shadow = PolicySchema.parse({ mode: 'shadow' });
    for (const mode of ['manual', 'hybrid', 'automatic', 'shadow'] as const)
      expect(effectiveMode(mode, shadow)).toBe('shadow');
    expect(effectiveMode('shadow', policy)).toBe('shadow');
    expect(effectiveMode('shadow', builtInPolicies().conservative!)).toBe('shadow');
  });

  it('shadow mode decides as automatic would: execute is dry-run only, approval becomes advice', () => {
    const low = decide(action({ type: 'patch', risk: 'medium' }), {
      mode: 'shadow',
      policy,
      confidence: 0.9,
    });
    expect(low.decision).toBe('execute');
    expect(low.reason).toMatch(/^shadow mode: automatic would execute/);
    const high = decide(action({ type: 'patch', risk: 'high' }), { mode: 'shadow', policy, confidence: 0.9 });
    expect(high).toMatchObject({ decision: 'advice' });
    expect(high.reason).toMatch(/would wait for approval/);
    const unsure = decide(action({ type: 'patch', risk: 'low' }), {
      mode: 'shadow',
      policy,
      confidence: 0.1,
    });
    expect(unsure.decision).toBe('advice');
    const denied = decide(action({ type: 'delete', risk: 'low' }), { mode: 'shadow', policy, confidence: 1 });
    expect(denied.decision).toBe('denied');
  });

  it('matches namespace globs and always protects system namespaces', () => {
    const scoped = PolicySchema.parse({ namespaces: { allow: ['team-*'], deny: ['team-secret'] } });
    expect(namespaceAllowed(scoped, 'team-a')).toBe(true);
    expect(namespaceAllowed(scoped, 'team-secret')).toBe(false);
    expect(namespaceAllowed(scoped, 'other')).toBe(false);
    expect(namespaceAllowed(PolicySchema.parse({ namespaces: { allow: ['*'] } }), 'kube-system')).toBe(false);
  });
});

describe('maxReplicas', () => {
  const capped = PolicySchema.parse({ maxReplicas: 5 });
  const hpa = {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    name: 'web',
    namespace: 'shop',
  };
  const refused: Array<[string, Partial<RemediationAction> & Pick<RemediationAction, 'type'>, RegExp]> = [
    ['a scale to 10', { type: 'scale', params: { replicas: 10 } }, /scale sets replicas .* to 10/],
    [
      'a patch raising spec.replicas',
      { type: 'patch', params: { patchType: 'strategic', patch: { spec: { replicas: 10 } } } },
      /sets spec\.replicas .* to 10/,
    ],
    [
      'an HPA maxReplicas raise',
      { type: 'patch', target: hpa, params: { patchType: 'merge', patch: { spec: { maxReplicas: 10 } } } },
      /sets spec\.maxReplicas of HorizontalPodAutoscaler\/web to 10/,
    ],
    [
      'an HPA minReplicas raise',
      { type: 'patch', target: hpa, params: { patchType: 'merge', patch: { spec: { minReplicas: 6 } } } },
      /sets spec\.minReplicas .* to 6/,
    ],
    [
      'a JSON patch replacing /spec/replicas',
      {
        type: 'patch',
        params: { patchType: 'json', patch: [{ op: 'replace', path: '/spec/replicas', value: 10 }] },
      },
      /sets spec\.replicas .* to 10/,
    ],
    [
      'a created Deployment with 10 replicas',
      { type: 'create', params: { manifest: { kind: 'Deployment', spec: { replicas: 10 } } } },
      /sets spec\.replicas .* to 10/,
    ],
  ];

  it.each(refused)(
    'refuses %s above the policy maximum, naming maxReplicas, in every mode',
    (_, draft, what) => {
      for (const mode of ['manual', 'hybrid', 'automatic'] as const) {
        const decision = decide(action({ risk: 'low', ...draft }), { mode, policy: capped, confidence: 1 });
        expect(decision.decision).toBe('denied');
        expect(decision.reason).toMatch(what);
        expect(decision.reason).toContain("the policy's maxReplicas (5)");
      }
    },
  );

  it('lets counts up to the maximum through to the other rules', () => {
    const five = action({ type: 'scale', risk: 'low', params: { replicas: 5 } });
    expect(decide(five, { mode: 'automatic', policy: capped, confidence: 1 }).decision).toBe('execute');
    const rollback = action({ type: 'rollback', risk: 'low', params: {} });
    expect(decide(rollback, { mode: 'automatic', policy: capped, confidence: 1 }).decision).toBe('execute');
  });
});

describe('requireDryRun', () => {
  it('defaults to true', () => {
    expect(PolicySchema.parse({}).requireDryRun).toBe(true);
  });

  it.each(['automatic', 'hybrid'] as const)('refuses false with mode %s, naming the field', (mode) => {
    const parsed = PolicySchema.safeParse({ mode, requireDryRun: false });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]).toMatchObject({
      path: ['requireDryRun'],
      message: expect.stringContaining('only with mode: manual'),
    });
  });

  it('accepts false with mode manual', () => {
    expect(PolicySchema.parse({ mode: 'manual', requireDryRun: false }).requireDryRun).toBe(false);
  });
});
