import { describe, expect, it } from 'vitest';
import { consumerIncident } from '../../test/support/consumer-incident.js';
import type { OutcomeHistory, OutcomeRecord } from '../learning/history.js';
import { RunbookSchema } from '../runbooks/schema.js';
import { planRemediation } from './plan.js';
import { builtInPolicies, PolicySchema } from './policy.js';

const policy = builtInPolicies().default!;
const ASOF = '2026-06-01T12:00:00.000Z';
const WORKLOAD = 'Deployment/shop/consumer';

// The consumer incident with a runbook that restarts the Deployment (low risk, runs in automatic).
const restart = RunbookSchema.parse({
  name: 'restart-stuck-consumer',
  match: { category: 'dependency-failure' },
  actions: [
    { type: 'restart', target: { kind: 'Deployment', name: '{{ target.name }}' }, description: 'Restart' },
  ],
});
const scale = RunbookSchema.parse({
  name: 'scale-consumer',
  match: { category: 'dependency-failure' },
  actions: [
    {
      type: 'scale',
      target: { kind: 'Deployment', name: 'consumer' },
      params: { replicas: 2 },
      description: 'Scale',
    },
  ],
});

const hoursAgo = (hours: number) => new Date(Date.parse(ASOF) - hours * 3_600_000).toISOString();
const record = (
  outcome: OutcomeRecord['outcome'],
  hours: number,
  extra: Partial<OutcomeRecord> = {},
): OutcomeRecord => ({
  category: 'dependency-failure',
  actionType: 'restart',
  workload: WORKLOAD,
  outcome,
  at: hoursAgo(hours),
  sessionId: `s-${outcome}-${hours}`,
  ...extra,
});

function plan(
  records: OutcomeRecord[],
  options: { runbooks?: (typeof restart)[]; modelOnly?: boolean; policy?: typeof policy } = {},
) {
  const rules = consumerIncident();
  const history: OutcomeHistory = { asOf: ASOF, records };
  return planRemediation({
    finding: rules.finding,
    facts: rules.facts,
    policy: options.policy ?? policy,
    requestedMode: 'automatic',
    runbooks: options.runbooks ?? [restart],
    history,
    ...(options.modelOnly ? { modelOnly: true } : {}),
  });
}

const restartOf = (result: ReturnType<typeof plan>) =>
  result.remediation.actions.find((a) => a.type === 'restart')!;

describe('the outcome history in planning', () => {
  it('without history the restart runs unattended', () => {
    expect(restartOf(plan([])).decision?.decision).toBe('execute');
    expect(plan([]).history).toBeUndefined();
  });

  it('an action that rolled back on the workload within the window is held for approval, and the answer says why', () => {
    const rolledBack = record('rolled-back', 2, { category: 'crash-loop' });
    const result = plan([rolledBack]);
    const action = restartOf(result);
    expect(action.decision).toEqual({
      decision: 'await-approval',
      reason: `held for approval: restart of ${WORKLOAD} was rolled back at ${rolledBack.at} (session ${rolledBack.sessionId}), within learning.holdAfterRollback (24h)`,
    });
    expect(result.history).toEqual({
      asOf: ASOF,
      records: [rolledBack],
      effects: [{ effect: 'held', actionId: action.id, reason: action.decision!.reason }],
    });
  });

  it('a rollback outside the window, on another workload or of another action type holds nothing', () => {
    for (const old of [
      record('rolled-back', 25),
      record('rolled-back', 1, { workload: 'Deployment/shop/other' }),
      record('rolled-back', 1, { actionType: 'patch' }),
    ])
      expect(restartOf(plan([old])).decision?.decision, JSON.stringify(old)).toBe('execute');
    const shorter = PolicySchema.parse({ learning: { holdAfterRollback: '1h' } });
    expect(restartOf(plan([record('rolled-back', 2)], { policy: shorter })).decision?.decision).toBe(
      'execute',
    );
  });

  it('an action type rejected repeatedly for the category is ranked down, ids in the new order', () => {
    const rejections = [1, 2, 3].map((hours) =>
      record('rejected', hours, { workload: `Deployment/shop/w${hours}` }),
    );
    const before = plan(rejections.slice(0, 2), { runbooks: [restart, scale] });
    const types = (result: ReturnType<typeof plan>) =>
      result.remediation.actions.map((a) => `${a.id}:${a.type}`);
    expect(types(before)).toEqual(['a1:manual', 'a2:restart', 'a3:scale']);
    const after = plan(rejections, { runbooks: [restart, scale] });
    expect(types(after)).toEqual(['a1:manual', 'a2:scale', 'a3:restart']);
    expect(after.history?.effects).toEqual([
      {
        effect: 'ranked-down',
        actionId: 'a3',
        reason:
          'ranked down: restart was rejected 3 time(s) for dependency-failure within learning.lookback (720h; learning.rejectionsToRankDown 3)',
      },
    ]);
  });

  it('verified fixes raise confidence in steps, within bounds, never for a model-only analysis', () => {
    const verified = (n: number) => Array.from({ length: n }, (_, i) => record('verified', i + 1));
    expect(plan(verified(4)).confidence).toBe(0.8);
    expect(plan(verified(5)).confidence).toBe(0.85);
    expect(plan(verified(5)).history?.effects[0]?.reason).toMatch(
      /^confidence \+0\.05 \(0\.80 → 0\.85\): restart of Deployment\/consumer was verified 5 time\(s\)/,
    );
    expect(plan(verified(10)).confidence).toBe(0.9);
    expect(plan(verified(30)).confidence).toBe(0.9);
    const lowCeiling = PolicySchema.parse({ learning: { confidenceBoost: { ceiling: 0.82 } } });
    expect(plan(verified(10), { policy: lowCeiling }).confidence).toBe(0.82);
    expect(plan(verified(10), { modelOnly: true }).confidence).toBe(0.8);
  });

  it('a higher confidence changes a decision: below minConfidence without history, executed with it', () => {
    const strict = PolicySchema.parse({ minConfidence: 0.85 });
    expect(restartOf(plan([], { policy: strict })).decision?.decision).toBe('await-approval');
    const verified = Array.from({ length: 5 }, (_, i) => record('verified', i + 1));
    expect(restartOf(plan(verified, { policy: strict })).decision?.decision).toBe('execute');
  });

  it('the same input and history give the same answer; learning can be turned off', () => {
    const history = [record('rolled-back', 2), record('verified', 3), record('rejected', 4)];
    expect(plan(history)).toEqual(plan(history));
    const off = PolicySchema.parse({ learning: { enabled: false } });
    expect(restartOf(plan(history, { policy: off })).decision?.decision).toBe('execute');
  });
});
