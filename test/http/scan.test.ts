/**
 * `POST /v1/scan` and words-only `POST /v1/remediate` with a real HTTP client against the server
 * factory `kubemend serve` uses, over an in-memory cluster: the report, validation that names the
 * field, scopes, no cluster → 503, and the OpenAPI document describing the route.
 */
import { parse as parseOpenApi, validate as validateOpenApi } from '@readme/openapi-parser';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Application, createApplication } from '../../src/app.js';
import { hashToken } from '../../src/auth/authenticator.js';
import type { ClusterGateway } from '../../src/cluster/gateway.js';
import { loadConfiguration } from '../../src/config/configuration.js';
import { RemediateOutputSchema, ScanReportSchema } from '../../src/domain/index.js';
import { createHttpServer } from '../../src/interfaces/http/server.js';
import { InMemoryClusterGateway } from '../support/in-memory-gateway.js';
import { World } from '../scan/world.js';

const ANALYST = 'scan-analyst-token-0123456789';
const AUDITOR = 'scan-auditor-token-0123456789';

const configuration = loadConfiguration({
  env: {},
  flags: {
    logLevel: 'silent',
    storage: { driver: 'memory', retention: '30d' },
    auth: {
      tokens: [
        { name: 'analyst', sha256: hashToken(ANALYST), scopes: ['remediate:analyze'] },
        { name: 'auditor', sha256: hashToken(AUDITOR), scopes: ['audit:read'] },
      ],
      serviceAccounts: [],
    },
  } as never,
});

function cluster(): InMemoryClusterGateway {
  const world = new World()
    .node('node-a')
    .deployment('shop', 'checkout', 'crashloop')
    .deployment('shop', 'web', 'running')
    .deployment('billing', 'invoices', 'image-pull', { container: { image: 'ghcr.io/acme/invoices:v9' } });
  const gateway = new InMemoryClusterGateway();
  gateway.rollouts.set('checkout', 'unhealthy');
  gateway.rollouts.set('invoices', 'unhealthy');
  for (const object of world.objects) gateway.put(object);
  for (const name of ['shop', 'billing'])
    gateway.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return gateway;
}

async function start(gateway: ClusterGateway | null) {
  const application = await createApplication(configuration, { cluster: gateway, scan: { settleMs: 0 } });
  const { app } = await createHttpServer({
    service: application.service,
    configuration,
    authenticator: application.authenticator,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  return { application, app, base: `http://127.0.0.1:${port}` };
}

let online: { application: Application; app: FastifyInstance; base: string };
let offline: { application: Application; app: FastifyInstance; base: string };

beforeAll(async () => {
  online = await start(cluster());
  offline = await start(null);
});

afterAll(async () => {
  for (const server of [online, offline]) {
    await server.app.close();
    await server.application.close();
  }
});

const post = (base: string, path: string, body: unknown, token = ANALYST) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });

describe('POST /v1/scan', () => {
  it('answers a ScanReport with one finding per failing owner', async () => {
    const response = await post(online.base, '/v1/scan', {});
    expect(response.status).toBe(200);
    const report = ScanReportSchema.parse(await response.json());
    expect(report.scope.allNamespaces).toBe(true);
    expect(report.findings.map((f) => `${f.object.namespace}/${f.object.name} ${f.category}`)).toEqual([
      'billing/invoices image-pull-not-found',
      'shop/checkout crash-loop',
    ]);
    expect(report.apiCalls).toBeGreaterThan(0);
  });

  it('scans only the namespaces named', async () => {
    const response = await post(online.base, '/v1/scan', { namespaces: ['shop'] });
    const report = ScanReportSchema.parse(await response.json());
    expect(report.findings.map((f) => f.object.name)).toEqual(['checkout']);
  });

  it.each([
    [{ namespaces: ['Shop!'] }, 'namespaces[0]'],
    [{ namespaces: ['shop'], allNamespaces: true }, 'allNamespaces'],
    [{ labelSelector: 'app in web' }, 'labelSelector'],
    [{ namespace: 'shop' }, 'namespace'],
  ])('rejects %j with 400 naming %s', async (request, field) => {
    const response = await post(online.base, '/v1/scan', request);
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { code: string; errors: Array<{ path: string }> };
    expect(problem.code).toBe('invalid-input');
    expect(problem.errors.map((error) => error.path)).toContain(field);
  });

  it('needs the remediate:analyze scope', async () => {
    expect((await post(online.base, '/v1/scan', {}, 'wrong')).status).toBe(401);
    expect((await post(online.base, '/v1/scan', {}, AUDITOR)).status).toBe(403);
  });

  it('answers 503 with Retry-After when no cluster is connected', async () => {
    const response = await post(offline.base, '/v1/scan', {});
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(await response.json()).toMatchObject({ code: 'cluster-unreachable' });
  });

  it('is described in the OpenAPI document', async () => {
    const document = (await (await fetch(`${online.base}/openapi.json`)).json()) as {
      paths: Record<string, unknown>;
    };
    expect(document.paths).toHaveProperty('/v1/scan');
    const result = await validateOpenApi(structuredClone(document) as never);
    expect(result.valid, JSON.stringify(result)).toBe(true);
    await expect(parseOpenApi(structuredClone(document) as never)).resolves.toBeTruthy();
  });
});

describe('POST /v1/remediate with words only', () => {
  it('finds the object the words name and says how', async () => {
    const response = await post(online.base, '/v1/remediate', {
      issue: 'checkout in the shop namespace keeps crashing, can you fix it?',
    });
    expect(response.status).toBe(200);
    const output = RemediateOutputSchema.parse(await response.json());
    expect(output.analysis.target).toMatchObject({ chosenBy: 'words', kind: 'Deployment', name: 'checkout' });
    expect(output.analysis.category).toBe('crash-loop');
  });

  it('answers failed with what it needs when nothing resolves', async () => {
    const response = await post(online.base, '/v1/remediate', { issue: 'the site is down' });
    const output = RemediateOutputSchema.parse(await response.json());
    expect(output.status).toBe('failed');
    expect(output.analysis.target?.chosenBy).toBe('unresolved');
  });
});
