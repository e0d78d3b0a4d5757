import { describe, expect, it } from 'vitest';
import { assessHealth, type HealthReport } from './health.js';
import { StabilityTracker } from './stability.js';

const T0 = Date.parse('2026-11-25T12:00:00.500Z');

function report(fields: Partial<HealthReport> & { restarts?: Record<string, number> } = {}): HealthReport {
  return {
    healthy: true,
    detail: '1/1 replicas ready',
    restarts: { 'web-1/main': 0 },
    running: { 'web-1/main': 'c1' },
    ...fields,
  };
}

describe('the stability tracker', () => {
  it('is verified once healthy for the window and every container ran its survival time', () => {
    const tracker = new StabilityTracker({ stabilityMs: 2_000, survivalMs: 6_000 }, T0, 60_000);
    tracker.observe(report(), T0 + 1_000);
    expect(tracker.nextCheck()).toBe(T0 + 7_000);
    expect(tracker.verdict(T0 + 3_000)).toBeUndefined();
    expect(tracker.verdict(T0 + 7_000)).toMatchObject({ ok: true });
  });

  it('starts the window again after a readiness flap, and the survival time with a new container', () => {
    const tracker = new StabilityTracker({ stabilityMs: 2_000, survivalMs: 4_000 }, T0, 60_000);
    tracker.observe(report(), T0);
    tracker.observe(report({ healthy: false, detail: 'pod web-1 is not ready' }), T0 + 1_000);
    tracker.observe(report({ running: { 'web-1/main': 'c1', 'web-2/main': 'c2' } }), T0 + 3_000);
    expect(tracker.nextCheck()).toBe(T0 + 7_000);
    expect(tracker.verdict(T0 + 5_000)).toBeUndefined();
    expect(tracker.verdict(T0 + 7_000)?.ok).toBe(true);
  });

  it('a container that was running long before the change (a kept pod) has already run its time', () => {
    const tracker = new StabilityTracker({ stabilityMs: 0, survivalMs: 6_000 }, T0, 60_000);
    const kept = { 'web-1/main': '2026-11-25T11:50:00Z' };
    const recent = { 'web-1/main': '2026-11-25T12:00:00Z' };
    tracker.observe(report({ startedAt: kept }), T0);
    expect(tracker.verdict(T0)?.ok).toBe(true);
    const fresh = new StabilityTracker({ stabilityMs: 0, survivalMs: 6_000 }, T0, 60_000);
    fresh.observe(report({ startedAt: recent }), T0);
    expect(fresh.verdict(T0)).toBeUndefined();
    expect(fresh.nextCheck()).toBe(T0 + 6_000);
  });

  it('pods Ready since well before the change (a rollback kept them) have already held the window', () => {
    const tracker = new StabilityTracker({ stabilityMs: 3_000 }, T0, 60_000);
    tracker.observe(report({ readySince: '2026-11-25T11:50:00Z' }), T0);
    expect(tracker.verdict(T0)?.ok).toBe(true);
    // Ready 1 s before (whole seconds, clocks apart): kubemend's own observation counts.
    const recent = new StabilityTracker({ stabilityMs: 3_000 }, T0, 60_000);
    recent.observe(report({ readySince: new Date(T0 - 1_000).toISOString() }), T0);
    expect(recent.verdict(T0)).toBeUndefined();
    expect(recent.nextCheck()).toBe(T0 + 3_000);
  });

  it('fails on a restart after the change; a pod created after the change counts from zero', () => {
    const tracker = new StabilityTracker({ stabilityMs: 2_000 }, T0, 60_000);
    tracker.observe(
      report({
        restarts: { 'old-1/main': 3, 'new-1/main': 1 },
        created: { 'old-1': '2026-11-25T11:00:00Z', 'new-1': '2026-11-25T12:00:01Z' },
      }),
      T0,
    );
    expect(tracker.verdict(T0)).toEqual({
      ok: false,
      detail: 'new-1/main restarted 1 time(s) after the change (1/1 replicas ready)',
    });
  });

  it('fails at once on a failure waiting will not heal', () => {
    const tracker = new StabilityTracker({ stabilityMs: 2_000 }, T0, 60_000);
    tracker.observe(
      report({ healthy: false, failing: true, detail: 'pod web-1 container main is CrashLoopBackOff' }),
      T0,
    );
    expect(tracker.verdict(T0)).toEqual({
      ok: false,
      detail: 'pod web-1 container main is CrashLoopBackOff',
    });
  });

  it('fails when never healthy within the timeout, or never stable within timeout plus window', () => {
    const never = new StabilityTracker({ stabilityMs: 2_000 }, T0, 10_000);
    never.observe(report({ healthy: false, detail: '0/1 ready' }), T0);
    expect(never.nextCheck()).toBe(T0 + 10_000);
    expect(never.verdict(T0 + 10_000)).toEqual({ ok: false, detail: 'not healthy within 10s: 0/1 ready' });
    const flapping = new StabilityTracker({ stabilityMs: 5_000 }, T0, 10_000);
    flapping.observe(report(), T0 + 9_000);
    flapping.observe(report({ healthy: false, detail: 'pod web-1 is not ready' }), T0 + 12_000);
    flapping.observe(report(), T0 + 13_000);
    expect(flapping.verdict(T0 + 15_000)).toEqual({
      ok: false,
      detail: 'not stable within 15s: 1/1 replicas ready',
    });
  });
});

describe('readiness since, from the pods', () => {
  const pod = (name: string, readyAt?: string) => ({
    kind: 'Pod',
    metadata: { name },
    status: {
      phase: 'Running',
      conditions: readyAt ? [{ type: 'Ready', status: 'True', lastTransitionTime: readyAt }] : [],
      containerStatuses: [{ name: 'main', ready: true, restartCount: 0, state: { running: {} } }],
    },
  });
  const set = {
    kind: 'StatefulSet',
    metadata: { name: 'db', generation: 1 },
    spec: { replicas: 2 },
    status: { observedGeneration: 1, readyReplicas: 2, updatedReplicas: 2 },
  };
  const key = { kind: 'StatefulSet', namespace: 'shop', name: 'db' };

  it('is the latest Ready transition among the current pods, and absent when one does not say', () => {
    const both = [pod('db-0', '2026-11-25T11:50:00Z'), pod('db-1', '2026-11-25T11:55:00Z')];
    expect(assessHealth(key, { object: set, pods: both }).readySince).toBe('2026-11-25T11:55:00Z');
    const unknown = [pod('db-0', '2026-11-25T11:50:00Z'), pod('db-1')];
    expect(assessHealth(key, { object: set, pods: unknown }).readySince).toBeUndefined();
  });
});
