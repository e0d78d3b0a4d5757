/**
 * `requireDryRun` from the policy file to the cluster write: under a `mode: manual` policy with
 * `requireDryRun: false`, an approved change is applied without the server-side dry-run (and the
 * audit says so); under the default it is dry-run first. The service runs as production composes
 * it (`createApplication`), against a fake ClusterGateway that records every write.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApplication } from '../../src/app.js';
import type { ClusterGateway, KubeObject, ObjectKey, WriteOptions } from '../../src/cluster/gateway.js';
import { loadConfiguration } from '../../src/config/configuration.js';
import type { RemediateInput } from '../../src/domain/index.js';

const input = JSON.parse(readFileSync('test/fixtures/hpa-wants-ten.json', 'utf8')) as RemediateInput;
const hpa = (input.context!.resources as KubeObject[])[0]!;

/** Reads answer with the autoscaler; after a real patch it is no longer limited. */
function fakeCluster() {
  const writes: Array<{ dryRun: boolean }> = [];
  let patched = false;
  const current = (): KubeObject => {
    const object = structuredClone(hpa);
    object.metadata = { ...object.metadata, resourceVersion: patched ? '2' : '1', generation: 1 };
    if (patched)
      object.status = {
        currentReplicas: 6,
        desiredReplicas: 6,
        conditions: [{ type: 'ScalingActive', status: 'True' }],
      };
    return object;
  };
  const gateway: Partial<ClusterGateway> = {
    server: 'https://fake.invalid',
    version: async () => ({ gitVersion: 'v1.31.0' }),
    get: async (key: ObjectKey) =>
      key.kind === 'HorizontalPodAutoscaler' && key.name === 'checkout' ? current() : undefined,
    list: async () => [],
    listWithVersion: async (kind: string) => ({
      items: kind === 'HorizontalPodAutoscaler' ? [current()] : [],
      resourceVersion: patched ? '2' : '1',
    }),
    watch: (_k: string, _n: unknown, _o: unknown, _e: unknown, signal: AbortSignal) =>
      new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve())),
    logs: async () => '',
    canI: async () => true,
    patch: async (_key: ObjectKey, _kind: unknown, _patch: unknown, options: WriteOptions = {}) => {
      writes.push({ dryRun: options.dryRun === true });
      if (!options.dryRun) patched = true;
      return current();
    },
  };
  return { gateway: gateway as ClusterGateway, writes };
}

async function approveUnder(policyYaml: string) {
  const directory = mkdtempSync(join(tmpdir(), 'kubemend-dry-run-'));
  const policyFile = join(directory, 'policies.yaml');
  writeFileSync(policyFile, policyYaml);
  const configuration = loadConfiguration({
    env: {},
    flags: { logLevel: 'silent', policyFile, storage: { driver: 'memory' } } as never,
  });
  const { gateway, writes } = fakeCluster();
  const app = await createApplication(configuration, {
    cluster: gateway,
    engine: { stabilityMs: 0, pollIntervalMs: 10 },
  });
  try {
    const pending = await app.service.remediate(input, { actor: 'test' });
    expect(pending.status).toBe('pending');
    const output = await app.service.approve(pending.sessionId, { approver: 'person' });
    const types = (await app.audit.list({ sessionId: pending.sessionId })).map((record) => record.type);
    return { output, writes, types };
  } finally {
    await app.close();
  }
}

describe('requireDryRun, from the policy file to the write', () => {
  it('dry-runs an approved change by default', async () => {
    const { output, writes, types } = await approveUnder(
      'policies:\n  careful:\n    mode: manual\n    verifyMinStability: 0s\n',
    );
    expect(output.results?.[0]?.status).toBe('verified');
    expect(writes).toEqual([{ dryRun: true }, { dryRun: false }]);
    expect(types).toContain('action.dry-run');
  });

  it('applies an approved change without the dry-run under requireDryRun: false (mode: manual)', async () => {
    const { output, writes, types } = await approveUnder(
      'policies:\n  careful:\n    mode: manual\n    requireDryRun: false\n    verifyMinStability: 0s\n',
    );
    expect(output.results?.[0]?.status).toBe('verified');
    expect(writes).toEqual([{ dryRun: false }]);
    expect(types).toContain('action.dry-run-skipped');
    expect(types).not.toContain('action.dry-run');
  });
});
