/**
 * The policy's `requireDryRun`, at the one place the engine dry-runs: by default every apply is
 * preceded by a server-side dry-run; `requireDryRun: false` applies directly (audited as
 * `action.dry-run-skipped`); a request's own `dryRun: true` still only dry-runs. A fake gateway
 * records every write and its options (the real API server's dry-run is covered by
 * engine.integration.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { InMemoryAuditRecorder } from '../../src/audit/recorder.js';
import type { ClusterGateway, KubeObject, WriteOptions } from '../../src/cluster/gateway.js';
import type { RemediationAction } from '../../src/domain/index.js';
import { ExecutionEngine } from '../../src/execution/engine.js';

function recordingGateway() {
  const writes: Array<{ dryRun: boolean }> = [];
  const object: KubeObject = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'settings', namespace: 'shop', resourceVersion: '7', generation: 1 },
    data: { mode: 'old' },
  };
  const gateway = {
    server: 'https://fake.invalid',
    get: async () => structuredClone(object),
    listWithVersion: async () => ({ items: [structuredClone(object)], resourceVersion: '7' }),
    watch: (_k: unknown, _n: unknown, _o: unknown, _e: unknown, signal: AbortSignal) =>
      new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve())),
    patch: async (_key: unknown, _kind: unknown, _patch: unknown, options: WriteOptions = {}) => {
      writes.push({ dryRun: options.dryRun === true });
      return { ...structuredClone(object), data: { mode: 'new' } };
    },
  } as unknown as ClusterGateway;
  return { gateway, writes };
}

const action: RemediationAction = {
  id: 'a1',
  type: 'patch',
  target: { apiVersion: 'v1', kind: 'ConfigMap', name: 'settings', namespace: 'shop' },
  params: { patchType: 'merge', patch: { data: { mode: 'new' } } },
  description: 'set mode',
  command: 'kubectl patch configmap settings',
  risk: 'low',
  rationale: 'test',
  verification: 'test',
};

async function run(plan: { requireDryRun?: boolean; dryRun?: boolean }) {
  const { gateway, writes } = recordingGateway();
  const audit = new InMemoryAuditRecorder();
  const engine = new ExecutionEngine({ gateway, audit, stabilityMs: 0, sleep: async () => undefined });
  const outcome = await engine.run({ sessionId: 's1', actions: [action], verifyTimeoutMs: 1_000, ...plan });
  return { outcome, writes, types: audit.records.map((record) => record.type) };
}

describe('requireDryRun in the execution engine', () => {
  it('dry-runs before every apply by default', async () => {
    const { outcome, writes, types } = await run({});
    expect(outcome.outcome).toBe('verified');
    expect(writes).toEqual([{ dryRun: true }, { dryRun: false }]);
    expect(types).toContain('action.dry-run');
    expect(types).not.toContain('action.dry-run-skipped');
  });

  it('dry-runs when the policy says requireDryRun: true', async () => {
    const { writes } = await run({ requireDryRun: true });
    expect(writes).toEqual([{ dryRun: true }, { dryRun: false }]);
  });

  it('applies without a dry-run only when the policy says requireDryRun: false, and audits it', async () => {
    const { outcome, writes, types } = await run({ requireDryRun: false });
    expect(outcome.outcome).toBe('verified');
    expect(writes).toEqual([{ dryRun: false }]);
    expect(types).toContain('action.dry-run-skipped');
    expect(types).not.toContain('action.dry-run');
    expect(types.indexOf('action.dry-run-skipped')).toBeLessThan(types.indexOf('action.applied'));
  });

  it("still only dry-runs a request that asked for dryRun, whatever the policy's requireDryRun", async () => {
    const { outcome, writes } = await run({ requireDryRun: false, dryRun: true });
    expect(outcome.outcome).toBe('dry-run');
    expect(writes).toEqual([{ dryRun: true }]);
  });
});
