/**
 * Serving against the real control plane, under kubemend's least-privilege identity:
 * - a controller-like client authenticates with its ServiceAccount token (TokenReview): it may
 *   analyse, not approve, unless configured;
 * - approve by session id executes and verifies; two concurrent approvals execute once;
 * - MCP elicitation: accept executes, decline leaves it pending, a client without elicitation gets
 *   the session-id route;
 * - `kubemend serve` killed with SIGKILL mid-execution: nothing acknowledged is lost, and the
 *   restart reconciles the session by restoring the persisted snapshot.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApplication, type Application } from '../../src/app.js';
import { hashToken } from '../../src/auth/authenticator.js';
import { KubeClusterGateway } from '../../src/cluster/kube-gateway.js';
import { loadConfiguration } from '../../src/config/configuration.js';
import { createHttpServer } from '../../src/interfaces/http/server.js';
import {
  createOomKilled,
  KUBEMEND_KUBECONFIG,
  kubectl,
  loadKubeconfig,
  memoryLimitOf,
  requireCluster,
  runClusterScript,
  uniqueName,
} from '../cluster/cluster-harness.js';
import { OPERATOR, remediateUntilApplied, serveProcess, settled, stopProcess } from './serve-process.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const namespace = uniqueName('serve');
let app: Application;
let http: FastifyInstance;
let base: string;
let controllerToken: string;

async function post(
  path: string,
  token: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Json; headers: Headers }> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Json, headers: response.headers };
}

const input = (name: string, mode = 'manual') => ({
  issue: `${name} keeps restarting`,
  target: { kind: 'Deployment', namespace, name },
  mode,
});

beforeAll(async () => {
  await requireCluster();
  runClusterScript('kubemend-identity.sh', [namespace]);
  kubectl(['create', 'serviceaccount', 'controller', '-n', namespace]);
  controllerToken = kubectl(['create', 'token', 'controller', '-n', namespace, '--duration=1h']).trim();
  const configuration = loadConfiguration({
    env: {},
    flags: {
      logLevel: 'silent',
      storage: { driver: 'memory', retention: '30d' },
      auth: {
        tokens: [
          {
            name: 'operator',
            sha256: hashToken(OPERATOR),
            scopes: ['remediate:analyze', 'remediate:execute', 'audit:read'],
          },
        ],
        serviceAccounts: [{ namespace, name: 'controller', scopes: ['remediate:analyze'] }],
      },
    } as never,
  });
  app = await createApplication(configuration, {
    cluster: new KubeClusterGateway(loadKubeconfig(KUBEMEND_KUBECONFIG)),
    engine: { pollIntervalMs: 250, stabilityMs: 2_000 },
  });
  ({ app: http } = await createHttpServer({
    service: app.service,
    configuration,
    authenticator: app.authenticator,
  }));
  await http.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(http.server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await http?.close();
  await app?.close();
  kubectl(['delete', 'namespace', namespace, '--wait=false'], { timeout: 30_000 });
});

describe('kubemend serve on a live cluster', () => {
  it('accepts a ServiceAccount token through TokenReview: analyse yes, approve no', async () => {
    await createOomKilled('sa-target', namespace);
    const analysed = await post('/v1/remediate', controllerToken, input('sa-target'));
    expect(analysed.status, JSON.stringify(analysed.body)).toBe(200);
    expect(analysed.body.analysis.category).toBe('oom-killed');
    const approve = await post(`/v1/sessions/${analysed.body.sessionId}/approve`, controllerToken, {
      approver: 'controller',
    });
    expect(approve.status).toBe(403);
    const forged = await post('/v1/remediate', `${controllerToken.slice(0, -4)}AAAA`, input('sa-target'));
    expect(forged.status).toBe(401);
  });

  it('approves by session id, executes, verifies — and a second concurrent approval does not execute again', async () => {
    await createOomKilled('approved', namespace);
    const pending = await post('/v1/remediate', OPERATOR, input('approved'));
    expect(pending.body.status).toBe('pending');
    const planHash = (
      (await (
        await fetch(`${base}/v1/sessions/${pending.body.sessionId}`, {
          headers: { authorization: `Bearer ${OPERATOR}` },
        })
      ).json()) as Json
    ).planHash;
    const [a, b] = await Promise.all([
      post(`/v1/sessions/${pending.body.sessionId}/approve`, OPERATOR, {
        approver: 'token:operator',
        planHash,
      }),
      post(`/v1/sessions/${pending.body.sessionId}/approve`, OPERATOR, {
        approver: 'token:operator',
        planHash,
      }),
    ]);
    const statuses = [a.status, b.status].sort();
    expect(statuses).toEqual([200, 409]);
    const winner = a.status === 200 ? a : b;
    expect(winner.body.results[0].status, JSON.stringify(winner.body.results)).toBe('verified');
    const audit = (await (
      await fetch(`${base}/v1/audit?sessionId=${pending.body.sessionId}`, {
        headers: { authorization: `Bearer ${OPERATOR}` },
      })
    ).json()) as Json;
    expect(audit.records.filter((r: Json) => r.type === 'action.applied')).toHaveLength(1);
    expect(audit.records.find((r: Json) => r.type === 'action.approved').actor).toBe('token:operator');
  });

  it('refuses an approval bound to another plan', async () => {
    await createOomKilled('stale', namespace);
    const pending = await post('/v1/remediate', OPERATOR, input('stale'));
    const stale = await post(`/v1/sessions/${pending.body.sessionId}/approve`, OPERATOR, {
      approver: 'token:operator',
      planHash: '0'.repeat(64),
    });
    expect(stale.status).toBe(409);
    expect(stale.body.code).toBe('plan-changed');
  });

  for (const [answer, expected] of [
    ['accept', 'success'],
    ['decline', 'pending'],
    ['none', 'pending'],
  ] as const) {
    it(`asks for approval inline over MCP where the client can (${answer})`, async () => {
      const name = `elicit-${answer}`;
      await createOomKilled(name, namespace);
      const client = new Client(
        { name: 'elicitation-test', version: '1.0.0' },
        answer === 'none' ? {} : { capabilities: { elicitation: {} } },
      );
      let asked = '';
      if (answer !== 'none') {
        client.setRequestHandler(ElicitRequestSchema, async (request) => {
          asked = request.params.message;
          return answer === 'accept'
            ? { action: 'accept', content: { approve: true } }
            : { action: 'decline' };
        });
      }
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${base}/mcp`), {
          requestInit: { headers: { authorization: `Bearer ${OPERATOR}` } },
        }),
      );
      try {
        const result = await client.callTool({ name: 'remediate', arguments: input(name) }, undefined, {
          timeout: 120_000,
        });
        const output = result.structuredContent as Json;
        expect(output.status).toBe(expected);
        if (answer === 'accept') {
          expect(asked).toMatch(/Approve these actions/);
          expect(output.results[0].status).toBe('verified');
        } else {
          expect((result.content as Json)[0].text).toMatch(/call the approve tool with sessionId/);
        }
        if (answer === 'none') expect(asked).toBe('');
      } finally {
        await client.close();
      }
    }, 150_000);
  }
});

describe('crash safety of kubemend serve', () => {
  it('a SIGKILL mid-execution loses nothing acknowledged; the restart restores the snapshot', async () => {
    await createOomKilled('crash', namespace);
    const directory = mkdtempSync(join(tmpdir(), 'kubemend-crash-'));
    const port = 18_000 + Math.floor(Math.random() * 1_000);
    const { launch, ready } = serveProcess(directory, port);
    const snapshot = kubectl(['get', 'deployment', 'crash', '-n', namespace, '-o', 'jsonpath={.spec}']);
    let server = launch();
    try {
      await ready();
      base = `http://127.0.0.1:${port}`;
      const read = await remediateUntilApplied(base, namespace, 'crash');
      // Kill it while the change is applied and being verified.
      server.kill('SIGKILL');
      await new Promise((resolve) => server.once('exit', resolve));
      expect(memoryLimitOf(namespace, 'crash')).not.toBe('128Mi');

      server = launch();
      await ready();
      // The restarted process is a new instance: it restores the session once the dead one's lease
      // (3 s here) has lapsed.
      const session = await settled(read, 30_000);
      expect(session.state).toBe('rolled-back');
      expect(session.results[0].status).toBe('rolled-back');
      expect(kubectl(['get', 'deployment', 'crash', '-n', namespace, '-o', 'jsonpath={.spec}'])).toBe(
        snapshot,
      );
      const audit = (await (
        await fetch(`${base}/v1/audit?sessionId=${session.id}`, {
          headers: { authorization: `Bearer ${OPERATOR}` },
        })
      ).json()) as Json;
      const types = audit.records.map((r: Json) => r.type);
      expect(types).toEqual(
        expect.arrayContaining([
          'session.created',
          'action.snapshotted',
          'action.dry-run',
          'action.applied',
          'action.rolled-back',
          'session.reconciled',
        ]),
      );
      expect(
        (
          (await (
            await fetch(`${base}/v1/audit/verify`, { headers: { authorization: `Bearer ${OPERATOR}` } })
          ).json()) as Json
        ).ok,
      ).toBe(true);
    } finally {
      await stopProcess(server);
    }
  }, 180_000);

  it("a replica started during another one's execution leaves that execution alone", async () => {
    await createOomKilled('replicas', namespace);
    const directory = mkdtempSync(join(tmpdir(), 'kubemend-replicas-'));
    const first = 18_000 + Math.floor(Math.random() * 1_000);
    const second = first + 1_000;
    const one = serveProcess(directory, first);
    const two = serveProcess(directory, second);
    const servers: ChildProcess[] = [one.launch()];
    try {
      await one.ready();
      base = `http://127.0.0.1:${first}`;
      const read = await remediateUntilApplied(base, namespace, 'replicas');
      // A second replica on the same database starts while the first is verifying (longer than
      // the 3 s lease): it must not take the session over.
      servers.push(two.launch());
      await two.ready();
      const done = await settled(read, 90_000);
      expect(done.state).toBe('verified');
      expect(done.results[0].status).toBe('verified');
      expect(memoryLimitOf(namespace, 'replicas')).not.toBe('128Mi');
      const audit = (await (
        await fetch(`${base}/v1/audit?sessionId=${done.id}`, {
          headers: { authorization: `Bearer ${OPERATOR}` },
        })
      ).json()) as Json;
      const types = audit.records.map((r: Json) => r.type);
      expect(types).not.toContain('session.reconciled');
      expect(types).not.toContain('action.rolled-back');
    } finally {
      await Promise.all(servers.map(stopProcess));
    }
  }, 180_000);
});
