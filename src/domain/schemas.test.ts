import { describe, expect, it } from 'vitest';
import {
  ACTION_TYPES,
  CATEGORIES,
  contractJsonSchemas,
  EXECUTION_STATUSES,
  ISSUE_MAX_LENGTH,
  MODES,
  OUTPUT_STATUSES,
  parseRemediateInput,
  RISK_LEVELS,
} from './index.js';

describe('contract pins (changing these is a contract change)', () => {
  it('keeps the Category identifiers', () => {
    expect(CATEGORIES).toEqual([
      'oom-killed',
      'crash-loop',
      'config-missing',
      'image-pull-not-found',
      'image-pull-auth',
      'invalid-command',
      'liveness-probe-failure',
      'readiness-probe-failure',
      'insufficient-resources',
      'scheduling-constraints',
      'volume-pending',
      'volume-mount-failure',
      'node-not-ready',
      'node-pressure-eviction',
      'quota-exceeded',
      'rollout-stuck',
      'service-no-endpoints',
      'job-failed',
      'hpa-limited',
      'dependency-failure',
      'permission-denied',
      'security-context',
      'cpu-throttling',
      'healthy',
      'unknown',
    ]);
  });

  it('keeps the action types, risk levels, modes and statuses', () => {
    expect(ACTION_TYPES).toEqual([
      'patch',
      'scale',
      'restart',
      'rollback',
      'delete',
      'cordon',
      'uncordon',
      'create',
      'manual',
    ]);
    expect(RISK_LEVELS).toEqual(['low', 'medium', 'high']);
    expect(MODES).toEqual(['manual', 'automatic', 'hybrid', 'shadow']);
    expect(OUTPUT_STATUSES).toEqual(['success', 'pending', 'failed']);
    expect(EXECUTION_STATUSES).toEqual([
      'dry-run',
      'applied',
      'verified',
      'failed',
      'rolled-back',
      'skipped',
    ]);
  });

  it('keeps the exported JSON Schemas', async () => {
    await expect(JSON.stringify(contractJsonSchemas(), null, 2)).toMatchFileSnapshot(
      './__snapshots__/contract-json-schemas.json',
    );
  });
});

describe('RemediateInput validation', () => {
  const ok = (value: unknown) => parseRemediateInput(value);
  const issuesOf = (value: unknown): string[] => {
    const result = ok(value);
    if (result.ok) throw new Error('expected a validation error');
    return result.error.issues.map((issue) => `${issue.path}: ${issue.message}`);
  };

  it('accepts a minimal input and both Event shapes', () => {
    expect(ok({ issue: 'pods crash' }).ok).toBe(true);
    expect(
      ok({
        issue: 'x',
        context: {
          event: { involvedObject: { kind: 'Pod', name: 'a' }, reason: 'BackOff', message: 'm', count: 3 },
        },
      }).ok,
    ).toBe(true);
    expect(
      ok({
        issue: 'x',
        context: {
          event: { regarding: { kind: 'Pod', name: 'a' }, reason: 'BackOff', note: 'm', deprecatedCount: 2 },
        },
      }).ok,
    ).toBe(true);
  });

  it('accepts a whole Pod or a bare PodSpec, and rejects anything else as podSpec', () => {
    expect(
      ok({
        issue: 'x',
        context: { podSpec: { apiVersion: 'v1', kind: 'Pod', metadata: {}, spec: { containers: [] } } },
      }).ok,
    ).toBe(true);
    expect(ok({ issue: 'x', context: { podSpec: { containers: [{ name: 'a' }] } } }).ok).toBe(true);
    expect(issuesOf({ issue: 'x', context: { podSpec: { foo: 1 } } })[0]).toMatch(
      /^context\.podSpec: expected a Pod manifest/,
    );
    expect(issuesOf({ issue: 'x', context: { podSpec: { kind: 'Deployment', spec: {} } } })[0]).toMatch(
      /^context\.podSpec\.kind:/,
    );
  });

  it('names unknown fields, at every level of the envelope', () => {
    expect(issuesOf({ issue: 'x', severity: 'high' })).toEqual(['severity: unknown field']);
    expect(issuesOf({ issue: 'x', context: { log: [] } })).toEqual(['context.log: unknown field']);
    expect(issuesOf({ issue: 'x', target: { kind: 'Pod', name: 'a', uid: 'u' } })).toEqual([
      'target.uid: unknown field',
    ]);
  });

  it('bounds the issue text', () => {
    expect(issuesOf({ issue: '' })[0]).toMatch(/^issue: must not be empty/);
    expect(issuesOf({ issue: 'x'.repeat(ISSUE_MAX_LENGTH + 1) })[0]).toMatch(
      /^issue: at most 10000 characters/,
    );
    expect(ok({ issue: 'x'.repeat(ISSUE_MAX_LENGTH) }).ok).toBe(true);
    expect(issuesOf({})[0]).toMatch(/^issue:/);
  });

  it('names the element of an array that is wrong', () => {
    expect(issuesOf({ issue: 'x', context: { logs: ['a', 2] } })[0]).toMatch(/^context\.logs\[1\]:/);
    expect(issuesOf({ issue: 'x', context: { resources: [{ kind: 'Pod' }, { metadata: {} }] } })[0]).toMatch(
      /^context\.resources\[1\]\.kind:/,
    );
    expect(issuesOf({ issue: 'x', mode: 'yolo' })[0]).toMatch(/^mode:/);
  });

  it('needs a sessionId to approve', () => {
    expect(issuesOf({ issue: 'x', approve: ['a1'] })[0]).toMatch(/^approve: `approve` needs the `sessionId`/);
    expect(ok({ issue: 'x', sessionId: 's-1', approve: ['a1'] }).ok).toBe(true);
  });

  it('rejects non-objects with a message about the document', () => {
    for (const value of [null, 3, 'x', [], true])
      expect(issuesOf(value)[0]).toMatch(/^: expected a JSON object/);
  });
});
