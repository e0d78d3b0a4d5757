import { describe, expect, it } from 'vitest';
import type { RemediateOutput, RemediationAction, ShadowObservation } from '../domain/index.js';
import type { ReportedSession } from '../sessions/store.js';
import { reportRange } from './range.js';
import { summarise } from './report.js';

const action = (
  id: string,
  type: RemediationAction['type'],
  decision: 'execute' | 'advice',
  shadow: boolean,
) =>
  ({
    id,
    type,
    target: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'api' },
    params: {},
    description: '',
    command: '',
    risk: 'medium',
    rationale: '',
    verification: '',
    decision: { decision, reason: shadow ? 'shadow mode: automatic would …' : 'automatic mode: …' },
  }) as unknown as RemediationAction;

const output = (category: string, actions: RemediationAction[]): RemediateOutput =>
  ({
    status: 'success',
    sessionId: 's',
    analysis: { category, rootCause: '', confidence: 0.9, factors: [], evidence: [], source: 'rules' },
    remediation: { summary: '', actions, risk: 'medium' },
  }) as unknown as RemediateOutput;

let n = 0;
function session(
  state: ReportedSession['state'],
  category: string,
  actions: RemediationAction[],
  extra: Partial<ReportedSession> = {},
): ReportedSession {
  n++;
  return {
    id: `s${n}`,
    state,
    createdAt: '2026-12-01T10:00:00.000Z',
    updatedAt: '2026-12-01T10:01:00.000Z',
    approvals: [],
    output: output(category, actions),
    ...extra,
  };
}

const observed = (
  outcome: ShadowObservation['outcome'],
  dryRun: 'passed' | 'failed' = 'passed',
): ShadowObservation => ({
  category: 'oom-killed',
  startedAt: '2026-12-01T10:00:00.000Z',
  windowEndsAt: '2026-12-01T10:30:00.000Z',
  actions: [
    {
      actionId: 'a1',
      type: 'patch',
      target: 'Deployment/shop/api',
      kind: 'Deployment',
      name: 'api',
      dryRun,
      message: '',
      ...(outcome ? { outcome } : {}),
    },
  ],
  ...(outcome ? { outcome } : {}),
});

describe('summarise', () => {
  const shadowActions = () => [
    action('a1', 'patch', 'execute', true),
    action('a2', 'restart', 'advice', true),
  ];
  const sessions: ReportedSession[] = [
    session('observed', 'oom-killed', shadowActions(), { shadow: observed('matched') }),
    session('observed', 'oom-killed', shadowActions(), { shadow: observed('contradicted') }),
    session('observed', 'oom-killed', shadowActions(), { shadow: observed('still-broken', 'failed') }),
    session('observing', 'oom-killed', shadowActions(), { shadow: observed(undefined) }),
    // Remediations: fixed automatically in 60 s, fixed after approval in 600 s, rolled back, rejected.
    session('verified', 'crash-loop', [action('a1', 'rollback', 'execute', false)]),
    session('verified', 'crash-loop', [action('a1', 'rollback', 'execute', false)], {
      updatedAt: '2026-12-01T10:10:00.000Z',
      approvals: [{ approver: 'bob', at: '2026-12-01T10:05:00.000Z', actionIds: ['a1'], planHash: 'h' }],
    }),
    session('rolled-back', 'crash-loop', [action('a1', 'rollback', 'execute', false)]),
    session('rejected', 'crash-loop', [action('a1', 'rollback', 'execute', false)]),
    session('analyzed', 'healthy', []),
  ];
  const report = summarise(sessions, { generatedAt: 'now', truncated: false });

  it('counts shadow proposals, would-execute, dry-run failures and outcomes by category and action type', () => {
    expect(report.shadow.sessions).toBe(4);
    expect(report.shadow.rows).toEqual([
      {
        category: 'oom-killed',
        actionType: 'patch',
        proposals: 4,
        wouldExecute: 4,
        dryRunFailures: 1,
        matched: 1,
        contradicted: 1,
        resolvedOnItsOwn: 0,
        stillBroken: 1,
        observing: 1,
      },
      {
        category: 'oom-killed',
        actionType: 'restart',
        proposals: 4,
        wouldExecute: 0,
        dryRunFailures: 0,
        matched: 0,
        contradicted: 0,
        resolvedOnItsOwn: 0,
        stillBroken: 0,
        observing: 0,
      },
    ]);
    expect(report.shadow.agreementRate).toBe(0.5);
  });

  it('gives MTTR and the auto-fix rate per category, not counting shadow sessions', () => {
    const crash = report.categories.find((row) => row.category === 'crash-loop');
    expect(crash).toMatchObject({
      sessions: 4,
      targeted: 4,
      fixed: 2,
      fixedAutomatically: 1,
      autoFixRate: 0.25,
      mttrSeconds: 330,
      medianSecondsToFix: 330,
      rolledBack: 1,
      rejected: 1,
    });
    expect(report.categories.find((row) => row.category === 'healthy')).toMatchObject({
      targeted: 0,
      autoFixRate: null,
      mttrSeconds: null,
    });
    expect(report.categories.some((row) => row.category === 'oom-killed')).toBe(false);
  });
});

describe('reportRange', () => {
  const now = new Date('2026-12-01T12:00:00.000Z');
  it('reads a duration back from now, or from/to times', () => {
    expect(reportRange({ since: '2h' }, now)).toEqual({ from: '2026-12-01T10:00:00.000Z' });
    expect(reportRange({ since: '7d' }, now)).toEqual({ from: '2026-11-24T12:00:00.000Z' });
    expect(reportRange({ from: '2026-11-01', to: '2026-11-02T00:00:00Z' }, now)).toEqual({
      from: '2026-11-01T00:00:00.000Z',
      to: '2026-11-02T00:00:00.000Z',
    });
    expect(reportRange({}, now)).toEqual({});
  });
  it('names the flag that is wrong', () => {
    const names = { since: '--since', from: '--from', to: '--to' };
    expect(() => reportRange({ since: 'yesterday' }, now, names)).toThrow(/--since/);
    expect(() => reportRange({ from: 'monday' }, now, names)).toThrow(/--from/);
    expect(() => reportRange({ since: '1h', from: '2026-11-01' }, now, names)).toThrow(/not both/);
    expect(() => reportRange({ from: '2026-11-02', to: '2026-11-01' }, now, names)).toThrow(
      /--to: must be after/,
    );
  });
});
