// The gauges behind the chart's PrometheusRule: pending approvals and their age, and the audit
// chain's status as the service last verified it.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { ChainStatus } from '../../src/service/audit-integrity.js';
import type { OutboxBacklog } from '../../src/sessions/companions.js';
import type { SessionRecord, SessionStore } from '../../src/sessions/store.js';
import { registerStateMetrics } from '../../src/interfaces/http/state-metrics.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');

let backlogReads = 0;

function sessions(createdAt: string[], backlog: OutboxBacklog = { waiting: 0, dead: 0 }): SessionStore {
  return {
    list: async (query?: { state?: string }) =>
      query?.state === 'pending'
        ? createdAt.map((at) => ({ id: at, state: 'pending', createdAt: at }) as unknown as SessionRecord)
        : [],
    outbox: {
      backlog: async () => {
        backlogReads++;
        return backlog;
      },
    },
  } as unknown as SessionStore;
}

/** A chain view whose checks return `results` in turn (the last one repeating). */
function chain(results: ChainStatus[]): {
  status(): ChainStatus;
  check(): Promise<ChainStatus>;
  calls: number;
} {
  let current: ChainStatus = { state: 'unknown' };
  const view = {
    calls: 0,
    status: () => current,
    check: async () => {
      current = results[Math.min(view.calls++, results.length - 1)]!;
      return current;
    },
  };
  return view;
}

const VALID: ChainStatus = { state: 'valid', verified: { sequence: 3, hash: 'h' } };
async function value(registry: Registry, name: string): Promise<number | undefined> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (metric?.values[0] as { value?: number } | undefined)?.value;
}

describe('state metrics', () => {
  it('reports the notification outbox: waiting, the oldest one’s age, given up', async () => {
    const registry = new Registry();
    registerStateMetrics(
      registry,
      {
        sessions: sessions([], { waiting: 3, dead: 1, oldestWaitingAt: '2026-12-01T11:45:00Z' }),
        chain: chain([VALID]),
      },
      { now: () => NOW },
    );
    expect(await value(registry, 'kubemend_notifications_waiting')).toBe(3);
    expect(await value(registry, 'kubemend_notification_oldest_waiting_age_seconds')).toBe(900);
    expect(await value(registry, 'kubemend_notifications_dead')).toBe(1);
    // A whole scrape reads the outbox once for its three gauges.
    backlogReads = 0;
    await registry.metrics();
    expect(backlogReads).toBe(1);
  });

  it('counts pending approvals and reports the oldest one’s age in seconds (0 when none)', async () => {
    const registry = new Registry();
    registerStateMetrics(
      registry,
      {
        sessions: sessions(['2026-12-01T11:00:00Z', '2026-12-01T10:30:00Z']),
        chain: chain([VALID]),
      },
      { now: () => NOW },
    );
    expect(await value(registry, 'kubemend_pending_approvals')).toBe(2);
    expect(await value(registry, 'kubemend_pending_approval_oldest_age_seconds')).toBe(5400);

    const empty = new Registry();
    registerStateMetrics(empty, { sessions: sessions([]), chain: chain([VALID]) });
    expect(await value(empty, 'kubemend_pending_approval_oldest_age_seconds')).toBe(0);
  });

  it('reports the service’s chain status: the first scrape waits for a check, later ones read the last result', async () => {
    const registry = new Registry();
    const view = chain([VALID, { state: 'broken', firstBroken: { sequence: 2, reason: 'altered' } }]);
    registerStateMetrics(registry, { sessions: sessions([]), chain: view });
    expect(await value(registry, 'kubemend_audit_chain_valid')).toBe(1);
    expect(await value(registry, 'kubemend_audit_chain_verified_records')).toBe(3);
    expect(view.calls).toBe(1);
    expect(await value(registry, 'kubemend_audit_chain_valid')).toBe(1);
    expect(view.calls).toBe(1); // a scrape never walks the chain itself

    await view.check(); // the service's next check finds the break
    expect(await value(registry, 'kubemend_audit_chain_valid')).toBe(0);
    expect(await value(registry, 'kubemend_audit_chain_verified_records')).toBe(0);
  });
});
