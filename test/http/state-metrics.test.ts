// The gauges behind the chart's PrometheusRule: pending approvals and their age, and the audit
// chain's verification (at most once per interval, a failure to verify keeping the last result).
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { AuditRecorder, ChainVerification } from '../../src/audit/recorder.js';
import type { SessionRecord, SessionStore } from '../../src/sessions/store.js';
import { registerStateMetrics } from '../../src/interfaces/http/state-metrics.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');

function sessions(createdAt: string[]): SessionStore {
  return {
    list: async (query?: { state?: string }) =>
      query?.state === 'pending'
        ? createdAt.map((at) => ({ id: at, state: 'pending', createdAt: at }) as unknown as SessionRecord)
        : [],
  } as unknown as SessionStore;
}

function audit(results: Array<ChainVerification | Error>): AuditRecorder & { calls: number } {
  const recorder = {
    calls: 0,
    verify: async () => {
      const next = results[Math.min(recorder.calls++, results.length - 1)]!;
      if (next instanceof Error) throw next;
      return next;
    },
  };
  return recorder as unknown as AuditRecorder & { calls: number };
}

async function value(registry: Registry, name: string): Promise<number | undefined> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (metric?.values[0] as { value?: number } | undefined)?.value;
}

describe('state metrics', () => {
  it('counts pending approvals and reports the oldest one’s age in seconds (0 when none)', async () => {
    const registry = new Registry();
    registerStateMetrics(
      registry,
      {
        sessions: sessions(['2026-12-01T11:00:00Z', '2026-12-01T10:30:00Z']),
        audit: audit([{ ok: true, records: 1 }]),
      },
      { now: () => NOW },
    );
    expect(await value(registry, 'kubemend_pending_approvals')).toBe(2);
    expect(await value(registry, 'kubemend_pending_approval_oldest_age_seconds')).toBe(5400);

    const empty = new Registry();
    registerStateMetrics(empty, { sessions: sessions([]), audit: audit([{ ok: true, records: 0 }]) });
    expect(await value(empty, 'kubemend_pending_approval_oldest_age_seconds')).toBe(0);
  });

  it('verifies the audit chain at most once per interval and reports 0 once it breaks', async () => {
    let now = NOW;
    const registry = new Registry();
    const recorder = audit([
      { ok: true, records: 3 },
      new Error('database is locked'),
      { ok: false, records: 3, firstBroken: { sequence: 2, reason: 'hash mismatch' } },
    ]);
    registerStateMetrics(
      registry,
      { sessions: sessions([]), audit: recorder },
      { now: () => now, auditVerifyIntervalMs: 60_000 },
    );
    expect(await value(registry, 'kubemend_audit_chain_valid')).toBe(1);
    expect(await value(registry, 'kubemend_audit_chain_valid')).toBe(1);
    expect(recorder.calls).toBe(1);

    now += 60_000; // due again: verification fails to run, the last result stands
    expect(await value(registry, 'kubemend_audit_chain_valid')).toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(recorder.calls).toBe(2);

    now += 1; // still due (the failed attempt recorded nothing): this run finds the break
    await value(registry, 'kubemend_audit_chain_valid');
    await new Promise((resolve) => setImmediate(resolve));
    expect(recorder.calls).toBe(3);
    expect(await value(registry, 'kubemend_audit_chain_valid')).toBe(0);
  });
});
