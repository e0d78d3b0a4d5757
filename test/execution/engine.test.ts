/**
 * The execution engine's state machine, against an in-memory cluster with injected faults, a fake
 * clock and an audit log that can fail. Every row of the transition table is driven by at least one
 * test here; the last test checks that none was missed.
 */
import { describe, expect, it } from 'vitest';
import type { RemediationAction } from '../../src/domain/index.js';
import { ExecutionEngine } from '../../src/execution/engine.js';
import { TargetLocks } from '../../src/execution/locks.js';
import type { ActionRun, TransitionRecord } from '../../src/execution/run.js';
import { type ActionState, transitionRows } from '../../src/execution/transitions.js';
import { FakeTime, FlakyAuditRecorder } from '../support/doubles.js';
import { InMemoryClusterGateway } from '../support/in-memory-gateway.js';
import { deployment, memoryPatch as patchAction, NAMESPACE as namespace } from '../support/workloads.js';

/** Every transition any test drove, as `from --event--> to`. */
const visited = new Set<string>();

const manualAction: RemediationAction = {
  id: 'manual',
  type: 'manual',
  target: { apiVersion: 'v1', kind: 'Node', name: 'node-1' },
  params: { instructions: 'look at the node' },
  description: 'for a person',
  command: '',
  risk: 'low',
  rationale: '',
  verification: '',
};

function setup(options: { locks?: TargetLocks } = {}) {
  const time = new FakeTime();
  const gateway = new InMemoryClusterGateway([deployment('web'), deployment('api')], time.clock);
  const audit = new FlakyAuditRecorder(time.clock);
  const transitions: TransitionRecord[] = [];
  const engine = new ExecutionEngine({
    gateway,
    audit,
    locks: options.locks,
    clock: time.clock,
    sleep: time.sleep,
    pollIntervalMs: 1_000,
    stabilityMs: 5_000,
    onTransition: (change) => {
      transitions.push(change);
      visited.add(`${change.from} --${change.event}--> ${change.to}`);
    },
  });
  /** The states one action went through, starting with `queued`. */
  const path = (actionId: string): ActionState[] => {
    const steps = transitions.filter((t) => t.actionId === actionId);
    return steps.length === 0 ? [] : [steps[0]!.from, ...steps.map((t) => t.to)];
  };
  const memory = (name: string) =>
    (
      gateway.object({ kind: 'Deployment', namespace, name })?.spec as {
        template: { spec: { containers: Array<{ resources?: { limits?: { memory?: string } } }> } };
      }
    ).template.spec.containers[0]?.resources?.limits?.memory;
  return { time, gateway, audit, engine, transitions, path, memory };
}

/** The states every action that reaches the apply goes through first. */
const TO_DRY_RUN: ActionState[] = ['queued', 'locked', 'snapshotted', 'dry-run-passed'];

const plan = (
  sessionId: string,
  actions: RemediationAction[],
  extra: { dryRun?: boolean; requireDryRun?: boolean } = {},
) => ({
  sessionId,
  actions,
  verifyTimeoutMs: 60_000,
  ...extra,
});

describe('the happy path', () => {
  it('locks, snapshots, dry-runs, applies, verifies and audits every step', async () => {
    const { engine, audit, path, memory, gateway } = setup();
    const outcome = await engine.run(plan('s1', [patchAction('a1', 'web')]));
    expect(path('a1')).toEqual(['queued', 'locked', 'snapshotted', 'dry-run-passed', 'applied', 'verified']);
    expect(outcome).toMatchObject({ outcome: 'verified', changedCluster: true });
    expect(outcome.actions[0]).toMatchObject({ state: 'verified', outcomeUnknown: false, changed: true });
    expect(outcome.results[0]?.status).toBe('verified');
    expect(audit.types()).toEqual([
      'action.snapshotted',
      'action.dry-run',
      'action.applied',
      'action.verified',
    ]);
    expect(audit.records.map((r) => r.detail?.state)).toEqual([
      'snapshotted',
      'dry-run-passed',
      'applied',
      'verified',
    ]);
    expect(memory('web')).toBe('512Mi');
    // Dry-run first, then the real write carrying the snapshot's resourceVersion.
    expect(gateway.writes.map((w) => `${w.verb}${w.dryRun ? ' (dry-run)' : ''}`)).toEqual([
      'patch (dry-run)',
      'patch',
    ]);
  });

  it('a dry-run plan stops after the server-side dry-run and changes nothing', async () => {
    const { engine, path, gateway } = setup();
    const before = gateway.object({ kind: 'Deployment', namespace, name: 'web' });
    const outcome = await engine.run(plan('s1', [patchAction('a1', 'web')], { dryRun: true }));
    expect(path('a1')).toEqual(TO_DRY_RUN);
    expect(outcome).toMatchObject({ outcome: 'dry-run', changedCluster: false });
    expect(outcome.results[0]?.status).toBe('dry-run');
    expect(gateway.object({ kind: 'Deployment', namespace, name: 'web' })).toEqual(before);
  });

  it('requireDryRun: false skips the server-side dry-run, records why, and applies', async () => {
    const { engine, audit, path, memory } = setup();
    const outcome = await engine.run(plan('s1', [patchAction('a1', 'web')], { requireDryRun: false }));
    expect(path('a1')).toEqual(['queued', 'locked', 'snapshotted', 'dry-run-passed', 'applied', 'verified']);
    expect(outcome.outcome).toBe('verified');
    expect(memory('web')).toBe('512Mi');
    const types = audit.records.map((record) => record.type);
    expect(types).toContain('action.dry-run-skipped');
    expect(types).not.toContain('action.dry-run');
  });

  it('takes time from the injected clock and waits through the injected sleep', async () => {
    const { engine, gateway, time } = setup();
    gateway.rollouts.set('web', 'unhealthy');
    const started = time.clock().getTime();
    const outcome = await engine.run(plan('s1', [patchAction('a1', 'web')]));
    // A 60 s verification window passed on the fake clock, none on the real one.
    expect(time.clock().getTime() - started).toBeGreaterThanOrEqual(60_000);
    expect(outcome.results[0]?.message).toMatch(/not healthy within 60s/);
    expect(outcome.results[0]?.startedAt).toBe(new Date(started).toISOString());
    expect(Date.parse(outcome.results[0]!.finishedAt)).toBeGreaterThanOrEqual(started + 60_000);
  });
});

describe('the API server says no', () => {
  it('a dry-run the server rejects stops before any change', async () => {
    const { engine, gateway, path, audit } = setup();
    gateway.inject({
      verb: 'patch',
      dryRun: true,
      fault: { kind: 'reject', status: 422, message: 'invalid' },
    });
    const outcome = await engine.run(plan('s1', [patchAction('a1', 'web')]));
    expect(path('a1')).toEqual(['queued', 'locked', 'snapshotted', 'failed']);
    expect(outcome.results[0]).toMatchObject({
      status: 'failed',
      message: expect.stringMatching(/dry-run rejected/),
    });
    expect(outcome.changedCluster).toBe(false);
    expect(gateway.writes.filter((w) => !w.dryRun)).toEqual([]);
    expect(audit.types()).toEqual(['action.snapshotted', 'action.dry-run-failed']);
  });

  it('an apply the server refuses fails with nothing changed', async () => {
    const { engine, gateway, path, memory } = setup();
    gateway.inject({
      verb: 'patch',
      dryRun: false,
      fault: { kind: 'reject', status: 403, message: 'forbidden' },
    });
    const outcome = await engine.run(plan('s1', [patchAction('a1', 'web')]));
    expect(path('a1')).toEqual([...TO_DRY_RUN, 'failed']);
    expect(outcome.results[0]?.message).toMatch(/rejected the change: 403/);
    expect(outcome.actions[0]).toMatchObject({ outcomeUnknown: false, changed: false });
    expect(memory('web')).toBeUndefined();
  });

  it('an API error whose message says "unknown" is a refusal, not an unknown outcome', async () => {
    const { engine, gateway } = setup();
    gateway.inject({
      verb: 'patch',
      dryRun: false,
      fault: { kind: 'reject', status: 422, message: 'unknown field "spec.template.spec.bogus"' },
    });
    const outcome = await engine.run(plan('s1', [patchAction('a1', 'web')]));
    expect(outcome.results[0]?.message).toMatch(/unknown field/);
    expect(outcome.actions[0]).toMatchObject({ state: 'failed', outcomeUnknown: false, changed: false });
  });
});

describe('409: the object changed under kubemend', () => {
  it('during the dry-run: re-reads, re-plans and keeps the other change', async () => {
    const { engine, gateway, path, audit } = setup();
    gateway.inject({ verb: 'patch', dryRun: true, fault: { kind: 'concurrent-change', annotation: 'team' } });
    const outcome = await engine.run(plan('s1', [patchAction('a1', 'web')]));
    expect(path('a1')).toEqual([
      'queued',
      'locked',
      'snapshotted',
      'snapshotted',
      'dry-run-passed',
      'applied',
      'verified',
    ]);
    expect(outcome.results[0]?.status).toBe('verified');
    expect(audit.types()).toContain('action.conflicted');
    expect(
      gateway.object({ kind: 'Deployment', namespace, name: 'web' })?.metadata?.annotations?.team,
    ).toMatch(/^else-/);
  });

  it('during the apply: re-plans once (new snapshot, new dry-run) and applies', async () => {
    const { engine, gateway, path } = setup();
    gateway.inject({ verb: 'patch', dryRun: false, fault: { kind: 'concurrent-change' } });
    const outcome = await engine.run(plan('s1', [patchAction('a1', 'web')]));
    expect(path('a1')).toEqual([...TO_DRY_RUN, 'dry-run-passed', 'applied', 'verified']);
    expect(outcome.results[0]?.status).toBe('verified');
  });

  it("a controller's status write before the re-plan's dry-run is retried, not a failure", async () => {
    const { engine, gateway } = setup();
    gateway.inject({ verb: 'patch', dryRun: false, fault: { kind: 'concurrent-change' } });
    // The first dry-run passes; the re-plan's dry-run meets a status write (a 409 on resourceVersion).
    gateway.inject({ verb: 'patch', dryRun: true, skip: 1, fault: { kind: 'status-churn' } });
    const outcome = await engine.run(plan('s1', [patchAction('a1', 'web')]));
    expect(outcome.results[0]?.status, outcome.results[0]?.message).toBe('verified');
    expect(gateway.writes.filter((w) => w.dryRun)).toHaveLength(3); // first, the re-plan's, its retry
  });

  it('a second 409 gives up without overwriting', async () => {
    const { engine, gateway, path, memory } = setup();
    gateway.inject({ verb: 'patch', dryRun: false, fault: { kind: 'concurrent-change' }, times: 2 });
    const outcome = await engine.run(plan('s1', [patchAction('a1', 'web')]));
    expect(path('a1').at(-1)).toBe('failed');
    expect(outcome.results[0]?.message).toMatch(/409 twice/);
    expect(memory('web')).toBeUndefined();
  });
});

describe('a lost answer', () => {
  it('the apply landed: a re-read confirms it, then it is verified', async () => {
    const { engine, gateway, path, audit, memory } = setup();
    gateway.inject({ verb: 'patch', dryRun: false, fault: { kind: 'lose-answer' } });
    const outcome = await engine.run(plan('s1', [patchAction('a1', 'web')]));
    expect(path('a1')).toEqual([...TO_DRY_RUN, 'outcome-unknown', 'applied', 'verified']);
    expect(outcome.actions[0]).toMatchObject({ outcomeUnknown: false, changed: true });
    expect(audit.types()).toEqual([
      'action.snapshotted',
      'action.dry-run',
      'action.outcome-unknown',
      'action.applied',
      'action.verified',
    ]);
    expect(memory('web')).toBe('512Mi');
  });

  it('the request never arrived: a re-read shows nothing changed', async () => {
    const { engine, gateway, path } = setup();
    gateway.inject({ verb: 'patch', dryRun: false, fault: { kind: 'drop' } });
    const outcome = await engine.run(plan('s1', [patchAction('a1', 'web')]));
    expect(path('a1')).toEqual([...TO_DRY_RUN, 'outcome-unknown', 'failed']);
    expect(outcome.actions[0]).toMatchObject({ outcomeUnknown: false, changed: false });
    expect(outcome.changedCluster).toBe(false);
    expect(outcome.results[0]?.message).toMatch(/did not apply the change/);
  });

  it('the API server stays unreachable: the outcome is unknown, as a typed field', async () => {
    const { engine, gateway, path, audit } = setup();
    gateway.inject({ verb: 'patch', dryRun: false, fault: { kind: 'lose-answer', unreachableReads: 5 } });
    const outcome = await engine.run(plan('s1', [patchAction('a1', 'web')]));
    expect(path('a1')).toEqual(['queued', 'locked', 'snapshotted', 'dry-run-passed', 'outcome-unknown']);
    expect(outcome.actions[0]).toMatchObject({
      state: 'outcome-unknown',
      outcomeUnknown: true,
      changed: true,
    });
    expect(outcome).toMatchObject({ outcome: 'failed', changedCluster: true });
    expect(outcome.results[0]).toMatchObject({ status: 'failed', before: expect.any(Object) });
    expect(audit.types()).toContain('action.outcome-unknown');
  });
});

describe('verification and restore', () => {
  it('a fix that does not make the workload healthy is restored to the snapshot', async () => {
    const { engine, gateway, path, audit } = setup();
    gateway.rollouts.set('web', 'unhealthy');
    const snapshot = gateway.object({ kind: 'Deployment', namespace, name: 'web' });
    const outcome = await engine.run(plan('s1', [patchAction('a1', 'web')]));
    expect(path('a1')).toEqual([...TO_DRY_RUN, 'applied', 'rolling-back', 'rolled-back']);
    expect(outcome.outcome).toBe('rolled-back');
    expect(gateway.object({ kind: 'Deployment', namespace, name: 'web' })?.spec).toEqual(snapshot?.spec);
    expect(audit.types().slice(-2)).toEqual(['action.verification-failed', 'action.rolled-back']);
  });

  it('a restore the server refuses ends restore-failed, with the snapshot in the result', async () => {
    const { engine, gateway, path, audit } = setup();
    gateway.rollouts.set('web', 'unhealthy');
    gateway.inject({ verb: 'replace', fault: { kind: 'reject', status: 403, message: 'forbidden' } });
    const outcome = await engine.run(plan('s1', [patchAction('a1', 'web')]));
    expect(path('a1').slice(-2)).toEqual(['rolling-back', 'restore-failed']);
    expect(outcome.outcome).toBe('failed');
    expect(outcome.results[0]).toMatchObject({
      status: 'failed',
      message: expect.stringMatching(/restoring the snapshot failed/),
      before: expect.objectContaining({ kind: 'Deployment' }),
    });
    expect(audit.types().at(-1)).toBe('action.restore-failed');
  });

  it('a later action that fails restores the verified ones, newest first, and skips the rest', async () => {
    const { engine, gateway, path, memory } = setup();
    gateway.inject({
      verb: 'patch',
      name: 'api',
      dryRun: true,
      fault: { kind: 'reject', status: 422, message: 'no' },
    });
    const outcome = await engine.run(
      plan('s1', [patchAction('a1', 'web'), patchAction('a2', 'api'), patchAction('a3', 'web', '1Gi')]),
    );
    expect(path('a1')).toEqual([...TO_DRY_RUN, 'applied', 'verified', 'rolling-back', 'rolled-back']);
    expect(path('a2').at(-1)).toBe('failed');
    expect(path('a3')).toEqual(['queued', 'skipped']);
    expect(outcome.actions.map((a) => [a.actionId, a.state, a.skipReason])).toEqual([
      ['a1', 'rolled-back', undefined],
      ['a2', 'failed', undefined],
      ['a3', 'skipped', 'earlier-failure'],
    ]);
    expect(outcome.outcome).toBe('failed');
    expect(memory('web')).toBeUndefined();
  });
});

describe('actions that do not run', () => {
  it('a manual action is skipped with a typed reason', async () => {
    const { engine, path } = setup();
    const outcome = await engine.run(plan('s1', [manualAction]));
    expect(path('manual')).toEqual(['queued', 'skipped']);
    expect(outcome.actions[0]).toMatchObject({ state: 'skipped', skipReason: 'manual' });
    expect(outcome.actions[0]?.lockedBy).toBeUndefined();
  });

  it('a target locked by another remediation is skipped, naming the session that holds it', async () => {
    const locks = new TargetLocks();
    locks.tryAcquire(`Deployment/${namespace}/web`, 'other-session');
    const { engine, path, gateway } = setup({ locks });
    const outcome = await engine.run(plan('s1', [patchAction('a1', 'web')]));
    expect(path('a1')).toEqual(['queued', 'skipped']);
    expect(outcome.actions[0]).toMatchObject({ skipReason: 'locked', lockedBy: 'other-session' });
    expect(outcome.results[0]?.status).toBe('skipped');
    expect(gateway.writes).toEqual([]);
  });
});

describe('unexpected errors end an action safely', () => {
  it('the target does not exist: failed at the snapshot', async () => {
    const { engine, path } = setup();
    const outcome = await engine.run(plan('s1', [patchAction('a1', 'gone')]));
    expect(path('a1')).toEqual(['queued', 'locked', 'failed']);
    expect(outcome.results[0]?.message).toMatch(/does not exist/);
  });

  it('the audit log fails before the dry-run is recorded: nothing changes', async () => {
    const { engine, audit, path, gateway } = setup();
    audit.failOn.add('action.dry-run');
    await engine.run(plan('s1', [patchAction('a1', 'web')]));
    expect(path('a1')).toEqual(['queued', 'locked', 'snapshotted', 'failed']);
    expect(gateway.writes.filter((w) => !w.dryRun)).toEqual([]);
  });

  it('the progress store fails before the change: the change does not happen', async () => {
    const { engine, path, gateway } = setup();
    const outcome = await engine.run({
      ...plan('s1', [patchAction('a1', 'web')]),
      onProgress: async () => {
        throw new Error('session store down');
      },
    });
    expect(path('a1')).toEqual([...TO_DRY_RUN, 'failed']);
    expect(outcome.results[0]?.message).toBe('session store down');
    expect(gateway.writes.filter((w) => !w.dryRun)).toEqual([]);
  });

  it('the audit log fails after the change landed: restored', async () => {
    const { engine, audit, path, memory } = setup();
    audit.failOn.add('action.applied');
    const outcome = await engine.run(plan('s1', [patchAction('a1', 'web')]));
    expect(path('a1')).toEqual([...TO_DRY_RUN, 'outcome-unknown', 'rolling-back', 'rolled-back']);
    expect(outcome.outcome).toBe('rolled-back');
    expect(memory('web')).toBeUndefined();
  });

  it('the audit log fails to record the verification: restored (fail closed)', async () => {
    const { engine, audit, path } = setup();
    audit.failOn.add('action.verified');
    await engine.run(plan('s1', [patchAction('a1', 'web')]));
    expect(path('a1').slice(-4)).toEqual(['applied', 'outcome-unknown', 'rolling-back', 'rolled-back']);
  });

  it('the audit log fails to record a change confirmed after a lost answer: restored', async () => {
    const { engine, audit, gateway, path } = setup();
    gateway.inject({ verb: 'patch', dryRun: false, fault: { kind: 'lose-answer' } });
    audit.failOn.add('action.applied');
    await engine.run(plan('s1', [patchAction('a1', 'web')]));
    expect(path('a1').slice(-4)).toEqual([
      'outcome-unknown',
      'outcome-unknown',
      'rolling-back',
      'rolled-back',
    ]);
  });

  it('the audit log fails to record that a lost request never landed: failed, nothing to restore', async () => {
    const { engine, audit, gateway, path } = setup();
    gateway.inject({ verb: 'patch', dryRun: false, fault: { kind: 'drop' } });
    audit.failOn.add('action.apply-failed');
    const outcome = await engine.run(plan('s1', [patchAction('a1', 'web')]));
    expect(path('a1').slice(-2)).toEqual(['outcome-unknown', 'failed']);
    expect(outcome.changedCluster).toBe(false);
    expect(gateway.writes.filter((w) => w.verb === 'replace')).toEqual([]);
  });
});

describe('crash reconciliation', () => {
  it('restores a change a stopped process left applied', async () => {
    const { engine, gateway, path, audit } = setup();
    const snapshot = gateway.object({ kind: 'Deployment', namespace, name: 'web' })!;
    await gateway.patch({ kind: 'Deployment', namespace, name: 'web' }, 'strategic', {
      spec: { replicas: 3 },
    });
    const report = await engine.restoreAfterCrash(
      's1',
      patchAction('a1', 'web'),
      snapshot,
      'kubemend stopped',
    );
    expect(path('a1')).toEqual(['queued', 'locked', 'applied', 'rolling-back', 'rolled-back']);
    expect(report).toMatchObject({ state: 'rolled-back', result: { status: 'rolled-back' } });
    expect(gateway.object({ kind: 'Deployment', namespace, name: 'web' })?.spec).toEqual(snapshot.spec);
    expect(audit.types()).toEqual(['action.rolled-back']);
  });

  it('leaves a target another remediation holds, and says who holds it', async () => {
    const locks = new TargetLocks();
    locks.tryAcquire(`Deployment/${namespace}/web`, 'live-session');
    const { engine, gateway } = setup({ locks });
    const snapshot = gateway.object({ kind: 'Deployment', namespace, name: 'web' })!;
    const report = await engine.restoreAfterCrash('s1', patchAction('a1', 'web'), snapshot, 'stopped');
    expect(report).toMatchObject({
      lockedBy: 'live-session',
      skipReason: 'locked',
      result: { status: 'failed' },
    });
    expect(gateway.writes).toEqual([]);
  });
});

describe('one engine, two plans at once', () => {
  it('keeps the progress of each plan to itself', async () => {
    const { engine } = setup();
    const seen: Record<string, Array<Array<[string, ActionState]>>> = { one: [], two: [] };
    const progress = (session: string) => async (runs: readonly ActionRun[]) => {
      seen[session]!.push(runs.map((run) => [run.action.id, run.state]));
    };
    const [one, two] = await Promise.all([
      engine.run({ ...plan('one', [patchAction('web-fix', 'web')]), onProgress: progress('one') }),
      engine.run({ ...plan('two', [patchAction('api-fix', 'api')]), onProgress: progress('two') }),
    ]);
    expect(one.results[0]?.status).toBe('verified');
    expect(two.results[0]?.status).toBe('verified');
    // Each plan persisted its own snapshot before its apply, and never the other plan's actions.
    expect(seen.one).toContainEqual([['web-fix', 'dry-run-passed']]);
    expect(seen.two).toContainEqual([['api-fix', 'dry-run-passed']]);
    expect(seen.one!.flat().map(([id]) => id)).not.toContain('api-fix');
    expect(seen.two!.flat().map(([id]) => id)).not.toContain('web-fix');
  });
});

describe('the transition table', () => {
  // Runs last: the tests above must between them have driven every row.
  it('is covered row by row by the tests above', () => {
    const rows = transitionRows().map((row) => `${row.from} --${row.event}--> ${row.to}`);
    expect(rows.filter((row) => !visited.has(row))).toEqual([]);
    expect([...visited].filter((row) => !rows.includes(row))).toEqual([]);
  });
});
