/**
 * What the approvals page asks of the service:
 * - `preview`: a pending action's target now and as the server-side dry-run says it would be —
 *   nothing applied, nothing audited — cached per resourceVersion; a rejected dry-run, a manual
 *   action and no cluster say so; an executed action shows its snapshot and the object now;
 * - `startApproval`: refusals (another plan hash) are thrown before anything changes; otherwise it
 *   returns with the session executing, and execution finishes in the background; the approver's
 *   note is kept with the approval and in the audit log.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { InMemoryAuditRecorder } from '../../src/audit/recorder.js';
import { loadConfiguration } from '../../src/config/configuration.js';
import { loadPolicies } from '../../src/config/policies.js';
import type { RemediationAction } from '../../src/domain/index.js';
import { planHashOf, RemediationService } from '../../src/service/remediation-service.js';
import { InMemorySessionStore } from '../../src/sessions/in-memory-session-store.js';
import { InMemoryClusterGateway } from '../support/in-memory-gateway.js';
import { deployment, memoryPatch, NAMESPACE } from '../support/workloads.js';
import { outputFor } from '../ui/support.js';

const WEB = { kind: 'Deployment', namespace: NAMESPACE, name: 'web' };
const AWAIT = { decision: 'await-approval', reason: 'manual mode' } as const;

function setup(options: { offline?: boolean } = {}) {
  const gateway = new InMemoryClusterGateway([deployment('web')]);
  const audit = new InMemoryAuditRecorder();
  const sessions = new InMemorySessionStore(undefined, audit);
  const service = new RemediationService({
    configuration: loadConfiguration({ env: {} }),
    policies: loadPolicies(undefined),
    ...(options.offline ? {} : { cluster: gateway }),
    sessions,
    audit,
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    engine: { pollIntervalMs: 1, stabilityMs: 1 },
  });
  return { service, gateway, sessions, audit };
}

async function pending(sessions: InMemorySessionStore, actions = [memoryPatch('a1', 'web', '512Mi', AWAIT)]) {
  return sessions.create({
    id: 's1',
    state: 'pending',
    phase: 'done',
    createdAt: '2026-11-25T12:00:00.000Z',
    actor: 'test',
    input: { issue: 'web keeps restarting' },
    output: outputFor('s1', actions),
    planHash: planHashOf(actions),
    approvals: [],
    results: [],
  });
}

const memoryOf = (view: Record<string, unknown> | undefined) =>
  (
    view as {
      spec: { template: { spec: { containers: Array<{ resources?: { limits?: { memory?: string } } }> } } };
    }
  )?.spec.template.spec.containers[0]?.resources?.limits?.memory;

describe('preview', () => {
  it('dry-runs a pending action on the server: before and after, nothing applied or audited, cached per resourceVersion', async () => {
    const { service, sessions, gateway, audit } = setup();
    await pending(sessions);
    const preview = await service.preview('s1', 'a1');
    expect(preview.kind).toBe('dry-run');
    if (preview.kind !== 'dry-run') return;
    expect(memoryOf(preview.before)).toBeUndefined();
    expect(memoryOf(preview.after)).toBe('512Mi');
    expect(preview.before).not.toHaveProperty('status');
    expect((preview.before as { metadata: object }).metadata).not.toHaveProperty('resourceVersion');
    expect(gateway.writes).toEqual([{ verb: 'patch', key: 'Deployment/shop/web', dryRun: true }]);
    expect(audit.records).toEqual([]);

    expect(await service.preview('s1', 'a1')).toMatchObject({ kind: 'dry-run', cached: true });
    expect(gateway.writes).toHaveLength(1);
    gateway.put({
      ...gateway.object(WEB)!,
      metadata: { ...gateway.object(WEB)!.metadata, labels: { app: 'web', tier: 'x' } },
    });
    const fresh = await service.preview('s1', 'a1');
    expect(fresh).not.toHaveProperty('cached');
    expect(gateway.writes).toHaveLength(2);
  });

  it('reads the object again when it moved on between the read and the dry-run (409)', async () => {
    const { service, sessions, gateway } = setup();
    await pending(sessions);
    gateway.inject({
      verb: 'patch',
      dryRun: true,
      fault: { kind: 'concurrent-change', annotation: 'controller' },
    });
    const preview = await service.preview('s1', 'a1');
    expect(preview.kind, JSON.stringify(preview)).toBe('dry-run');
    if (preview.kind !== 'dry-run') return;
    expect(memoryOf(preview.after)).toBe('512Mi');
    expect(gateway.writes.filter((w) => w.dryRun)).toHaveLength(2);
  });

  it('says why there is no preview: a rejected dry-run, a manual action, no cluster, an unknown action', async () => {
    const { service, sessions, gateway } = setup();
    const manual: RemediationAction = {
      id: 'm1',
      type: 'manual',
      target: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: NAMESPACE, name: 'web' },
      params: { instructions: 'ask the owner' },
      description: 'ask',
      command: '',
      risk: 'low',
      rationale: '',
      verification: '',
      decision: { decision: 'advice', reason: 'manual' },
    };
    await pending(sessions, [memoryPatch('a1', 'web', '512Mi', AWAIT), manual]);
    gateway.inject({
      verb: 'patch',
      dryRun: true,
      fault: { kind: 'reject', status: 422, message: 'spec.template: Invalid value' },
    });
    expect(await service.preview('s1', 'a1')).toMatchObject({
      kind: 'rejected',
      reason: expect.stringContaining('Invalid value'),
    });
    expect(await service.preview('s1', 'm1')).toMatchObject({
      kind: 'unavailable',
      reason: expect.stringContaining('manual'),
    });
    await expect(service.preview('s1', 'nope')).rejects.toMatchObject({ code: 'not-found' });
    await expect(service.preview('nope', 'a1')).rejects.toMatchObject({ code: 'session-not-found' });

    const offline = setup({ offline: true });
    await pending(offline.sessions);
    expect(await offline.service.preview('s1', 'a1')).toMatchObject({
      kind: 'unavailable',
      reason: expect.stringContaining('no preview is available'),
    });
  });

  it('shows an executed action as its snapshot and the object now', async () => {
    const { service, sessions } = setup();
    await pending(sessions);
    await service.approve('s1', { approver: 'alice' });
    const preview = await service.preview('s1', 'a1');
    expect(preview).toMatchObject({ kind: 'since-snapshot', live: true });
    if (preview.kind !== 'since-snapshot') return;
    expect(memoryOf(preview.before)).toBeUndefined();
    expect(memoryOf(preview.after)).toBe('512Mi');
  });
});

describe('startApproval', () => {
  it('refuses another plan hash before anything changes', async () => {
    const { service, sessions, gateway, audit } = setup();
    await pending(sessions);
    await expect(
      service.startApproval('s1', { approver: 'alice', planHash: 'f'.repeat(64) }),
    ).rejects.toMatchObject({
      code: 'plan-changed',
    });
    expect((await sessions.get('s1'))!.state).toBe('pending');
    expect(gateway.writes).toEqual([]);
    expect(audit.records).toEqual([]);
  });

  it('returns executing, finishes in the background, and keeps the note', async () => {
    const { service, sessions, audit } = setup();
    const session = await pending(sessions);
    const started = await service.startApproval('s1', {
      approver: 'alice',
      planHash: session.planHash!,
      note: 'checked with the on-call',
    });
    expect(started.state).toBe('executing');
    for (let i = 0; i < 200 && (await sessions.get('s1'))!.state === 'executing'; i++) await sleep(5);
    const done = (await sessions.get('s1'))!;
    expect(done.state).toBe('verified');
    expect(done.approvals[0]).toMatchObject({ approver: 'alice', note: 'checked with the on-call' });
    expect(audit.records.find((r) => r.type === 'action.approved')?.detail).toMatchObject({
      note: 'checked with the on-call',
    });
  });
});
