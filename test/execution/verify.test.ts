/**
 * Verification from watch events (ADR 0032), through the engine, against the in-memory cluster:
 * list, then watch from the list's resourceVersion; the windows of the action's verification plan
 * (a container must outlive twice its earlier run; the workload must stay healthy); a break just
 * after the old fixed 10 s window is still caught; a revert by a GitOps controller fails the
 * verification; a 410 Gone re-lists.
 */
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/cluster/gateway.js';
import type { RemediationAction, VerificationPlan } from '../../src/domain/index.js';
import { ExecutionEngine } from '../../src/execution/engine.js';
import { FakeTime, FlakyAuditRecorder } from '../support/doubles.js';
import { InMemoryClusterGateway } from '../support/in-memory-gateway.js';
import { ARGO, oomIncident, plan } from '../support/managed.js';
import { deployment, memoryPatch, NAMESPACE as namespace } from '../support/workloads.js';

const WEB = { kind: 'Deployment', namespace, name: 'web' };

function pod(restartCount: number, containerID = `containerd://web-${restartCount}`): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web-1', namespace, labels: { app: 'web' } },
    status: {
      phase: 'Running',
      containerStatuses: [
        { name: 'main', ready: true, restartCount, containerID, state: { running: { startedAt: 'x' } } },
      ],
    },
  };
}

function setup(stabilityMs = 10_000) {
  const time = new FakeTime();
  const gateway = new InMemoryClusterGateway([deployment('web'), pod(0)], time.clock);
  const audit = new FlakyAuditRecorder(time.clock);
  const engine = new ExecutionEngine({
    gateway,
    audit,
    clock: time.clock,
    sleep: time.sleep,
    pollIntervalMs: 1_000,
    stabilityMs,
  });
  const started = time.now;
  const run = (action: RemediationAction) =>
    engine.run({ sessionId: 's1', actions: [action], verifyTimeoutMs: 60_000 });
  return { time, gateway, audit, run, elapsed: () => time.now - started };
}

function planned(plan: VerificationPlan): RemediationAction {
  return { ...memoryPatch('a1', 'web'), verificationPlan: plan };
}

/** A container that ran 12 s before its OOM kill: a new one must run 2 × 12 s. */
const LATE_OOM: VerificationPlan = {
  stabilityMs: 1_000,
  survivalMs: 24_000,
  basis: ['container main ended 12 s after it started (OOMKilled): each new container must run 24 s'],
};

describe('verification follows the evidence', () => {
  it('ends once the windows of the plan have passed, not after a fixed 10 s', async () => {
    const { run, elapsed } = setup();
    const outcome = await run(planned({ stabilityMs: 2_000, basis: ['floor'] }));
    expect(outcome.results[0]).toMatchObject({ status: 'verified' });
    expect(outcome.results[0]?.message).toMatch(/no restarts for 2s/);
    expect(elapsed()).toBe(2_000);
  });

  it('waits until every container has outlived twice its earlier run', async () => {
    const { run, elapsed } = setup();
    const outcome = await run(planned(LATE_OOM));
    expect(outcome.results[0]?.status).toBe('verified');
    expect(outcome.results[0]?.message).toMatch(/every container ran at least 24s/);
    expect(elapsed()).toBe(24_000);
  });

  it('catches a container that breaks 11 s in, just after the old fixed window, and rolls back', async () => {
    const { run, gateway, time, audit, elapsed } = setup();
    time.after(11_000, () => gateway.put(pod(1, 'containerd://web-again')));
    const outcome = await run(planned(LATE_OOM));
    expect(outcome.outcome).toBe('rolled-back');
    expect(outcome.results[0]?.message).toMatch(/web-1\/main restarted 1 time\(s\) after the change/);
    expect(audit.types()).toContain('action.verification-failed');
    // The restart was seen when it happened: the clock shows no verification past the window.
    expect(elapsed()).toBeLessThanOrEqual(24_000);
    expect(gateway.object(WEB)?.spec).toEqual(deployment('web').spec);
  });

  it('a fixed 10 s window (the old verification) would have called the same fix verified', async () => {
    const { run, gateway, time } = setup(10_000);
    time.after(11_000, () => gateway.put(pod(1, 'containerd://web-again')));
    const outcome = await run(memoryPatch('a1', 'web'));
    expect(outcome.outcome).toBe('verified');
  });

  it('fails when the workload is not healthy within the timeout', async () => {
    const { run, gateway, elapsed } = setup();
    gateway.rollouts.set('web', 'unhealthy');
    const outcome = await run(planned(LATE_OOM));
    expect(outcome.results[0]?.message).toMatch(/not healthy within 60s: 0\/1 ready/);
    expect(elapsed()).toBe(60_000);
  });
});

describe('verification watches instead of polling', () => {
  it('lists each source once, then watches from the list resourceVersion', async () => {
    const { run, gateway } = setup();
    await run(planned({ stabilityMs: 2_000, basis: ['floor'] }));
    const reads = gateway.reads;
    expect(reads.filter((r) => r.startsWith('list'))).toEqual([
      'list Deployment',
      'list Pod',
      'list ReplicaSet',
    ]);
    expect(reads.filter((r) => r.startsWith('watch')).map((r) => r.replace(/\d+$/, 'N'))).toEqual([
      'watch Deployment from N',
      'watch Pod from N',
      'watch ReplicaSet from N',
    ]);
  });

  it('lists again when the watched resourceVersion is gone (410), and still catches the break', async () => {
    const { run, gateway, time } = setup();
    time.after(5_000, () => gateway.expireWatches());
    time.after(12_000, () => gateway.put(pod(1, 'containerd://web-again')));
    const outcome = await run(planned(LATE_OOM));
    expect(gateway.reads.filter((r) => r === 'list Pod')).toHaveLength(2);
    expect(outcome.outcome).toBe('rolled-back');
  });
});

describe('a live change to a GitOps-managed object', () => {
  const revertWatch = { manager: 'argocd' as const, owner: 'Argo CD Application argocd/shop' };

  it('fails verification when the controller reverts it within the window, naming the owner', async () => {
    const { run, gateway, time } = setup();
    time.after(3_000, () =>
      gateway.put({ ...gateway.object(WEB)!, spec: deployment('web').spec }, 'argocd-controller'),
    );
    const outcome = await run(planned({ stabilityMs: 5_000, basis: ['floor'], revertWatch }));
    expect(outcome.outcome).toBe('rolled-back');
    expect(outcome.results[0]?.message).toMatch(
      /reverted within the stability window, presumably by Argo CD Application argocd\/shop: spec\.template\.spec\.containers\.0\.resources is back to its earlier value/,
    );
  });

  it("with the planner's window (verifyRevertWindow 30s), a self-heal 27 s after the change (after the 24 s survival) is still caught", async () => {
    const live = plan(oomIncident({ deployment: ARGO }), { gitopsManaged: 'live-patch' }).remediation
      .actions[0];
    const window = live?.verificationPlan;
    expect(window?.stabilityMs).toBe(30_000);
    const selfHeal = (gateway: InMemoryClusterGateway, time: FakeTime) =>
      time.after(27_000, () =>
        gateway.put({ ...gateway.object(WEB)!, spec: deployment('web').spec }, 'argocd-controller'),
      );
    const caught = setup();
    selfHeal(caught.gateway, caught.time);
    const outcome = await caught.run(planned(window!));
    expect(outcome.outcome).toBe('rolled-back');
    expect(outcome.results[0]?.message).toMatch(
      /reverted within the stability window, presumably by Argo CD/,
    );
    // Without the revert window (the OOM evidence alone asks for 24 s of survival) it went unseen.
    const missed = setup();
    selfHeal(missed.gateway, missed.time);
    const unseen = await missed.run(planned({ ...window!, stabilityMs: 0 }));
    expect(unseen.outcome).toBe('verified');
  });

  it('is verified when the change stays for the whole window', async () => {
    const { run } = setup();
    const outcome = await run(planned({ stabilityMs: 5_000, basis: ['floor'], revertWatch }));
    expect(outcome.outcome).toBe('verified');
  });
});
