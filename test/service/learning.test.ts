/**
 * Outcomes recorded by the service: a rejected session records each action that awaited approval
 * (with the `rejected` transition, in the same store write), and after `rejectionsToRankDown`
 * rejections the same incident's action is ranked down, the answer saying why. Offline, in-memory
 * stores; the live rollback → hold path is test/service/learning.integration.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { loadConfiguration } from '../../src/config/configuration.js';
import { loadPolicies } from '../../src/config/policies.js';
import { RemediationService } from '../../src/service/remediation-service.js';
import { InMemorySessionStore } from '../../src/sessions/in-memory-session-store.js';
import { consumerInput } from '../support/consumer-incident.js';

const RUNBOOKS = [
  {
    name: 'restart-stuck-consumer',
    match: { category: 'dependency-failure' },
    actions: [
      { type: 'restart', target: { kind: 'Deployment', name: '{{ target.name }}' }, description: 'Restart' },
    ],
  },
  {
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
  },
];

describe('outcomes recorded by the service', () => {
  it('a rejection is recorded per waiting action, and repeated rejections rank the action down', async () => {
    let now = Date.parse('2026-11-25T12:00:00.000Z');
    const clock = () => new Date(now);
    const sessions = new InMemorySessionStore(clock);
    const service = new RemediationService({
      configuration: loadConfiguration({
        env: {},
        flags: { cluster: { offline: true }, runbooks: RUNBOOKS } as never,
      }),
      policies: loadPolicies(undefined),
      sessions,
      audit: sessions.audit,
      clock,
      actor: 'test',
    });
    const types = (output: { remediation: { actions: Array<{ id: string; type: string }> } }) =>
      output.remediation.actions.map((action) => `${action.id}:${action.type}`);
    for (let round = 1; round <= 3; round++) {
      const output = await service.remediate(consumerInput());
      expect(types(output)).toEqual(['a1:manual', 'a2:restart', 'a3:scale']);
      expect(output.history).toBeUndefined();
      await service.reject(output.sessionId, { approver: 'ops', reason: 'not during business hours' });
      now += 60_000;
    }
    const records = await sessions.outcomes({
      category: 'dependency-failure',
      since: new Date(0).toISOString(),
    });
    expect(records).toHaveLength(6);
    expect(records[0]).toMatchObject({
      outcome: 'rejected',
      actionType: 'scale',
      workload: 'Deployment/shop/consumer',
    });
    const fourth = await service.remediate(consumerInput());
    // Both executable actions were rejected three times: both move behind the advice, in order.
    expect(types(fourth)).toEqual(['a1:manual', 'a2:restart', 'a3:scale']);
    expect(fourth.history?.effects).toEqual([
      {
        effect: 'ranked-down',
        actionId: 'a2',
        reason:
          'ranked down: restart was rejected 3 time(s) for dependency-failure within learning.lookback (720h; learning.rejectionsToRankDown 3)',
      },
      {
        effect: 'ranked-down',
        actionId: 'a3',
        reason:
          'ranked down: scale was rejected 3 time(s) for dependency-failure within learning.lookback (720h; learning.rejectionsToRankDown 3)',
      },
    ]);
    expect(fourth.history?.records).toHaveLength(6);
    expect(fourth.history?.records.every((record) => record.outcome === 'rejected')).toBe(true);
  });
});
