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

  it('matches namespace globs and always protects system namespaces', () => {
    const scoped = PolicySchema.parse({ namespaces: { allow: ['team-*'], deny: ['team-secret'] } });
    expect(namespaceAllowed(scoped, 'team-a')).toBe(true);
    expect(namespaceAllowed(scoped, 'team-secret')).toBe(false);
    expect(namespaceAllowed(scoped, 'other')).toBe(false);
    expect(namespaceAllowed(PolicySchema.parse({ namespaces: { allow: ['*'] } }), 'kube-system')).toBe(false);
  });
});
