/**
 * The HTTP server as `kubemend serve` builds it (createApplication + createHttpServer), listening on
 * a free loopback port, offline and in memory unless told otherwise; three tokens with the three
 * scope sets. For the hardening suites (limits, problems, fuzzing, rate limits).
 */
import { request as httpRequest } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { createApplication, type Application } from '../../src/app.js';
import { hashToken } from '../../src/auth/authenticator.js';
import type { ClusterGateway } from '../../src/cluster/gateway.js';
import { type Configuration, loadConfiguration } from '../../src/config/configuration.js';
import { createHttpServer } from '../../src/interfaces/http/server.js';

export const TOKENS = {
  analyst: 'analyst-token-0123456789',
  operator: 'operator-token-0123456789',
  auditor: 'auditor-token-0123456789',
  /** A second analyst: a different caller with the same scopes. */
  other: 'other-analyst-token-0123456789',
} as const;

type Plain = Record<string, unknown>;

/** The configuration the suites share; `overrides` replace whole top-level sections. */
export function testConfiguration(overrides: Plain = {}): Configuration {
  return loadConfiguration({
    env: {},
    flags: {
      logLevel: 'silent',
      storage: { driver: 'memory' },
      cluster: { offline: true },
      auth: {
        tokens: [
          { name: 'analyst', sha256: hashToken(TOKENS.analyst), scopes: ['remediate:analyze'] },
          {
            name: 'operator',
            sha256: hashToken(TOKENS.operator),
            scopes: ['remediate:analyze', 'remediate:execute', 'audit:read'],
          },
          { name: 'auditor', sha256: hashToken(TOKENS.auditor), scopes: ['audit:read'] },
          { name: 'other', sha256: hashToken(TOKENS.other), scopes: ['remediate:analyze'] },
        ],
      },
      ...overrides,
    } as never,
  });
}

export interface TestServer {
  readonly application: Application;
  readonly http: FastifyInstance;
  readonly base: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startTestServer(
  configuration: Configuration = testConfiguration(),
  options: { cluster?: ClusterGateway | null } = {},
): Promise<TestServer> {
  const application = await createApplication(configuration, { cluster: options.cluster ?? null });
  const { app: http } = await createHttpServer({
    service: application.service,
    configuration,
    authenticator: application.authenticator,
  });
  await http.listen({ host: '127.0.0.1', port: 0 });
  const port = (http.server.address() as { port: number }).port;
  return {
    application,
    http,
    base: `http://127.0.0.1:${port}`,
    port,
    async close() {
      await http.close();
      await application.close();
    },
  };
}

export function authorized(token: string, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...extra };
}

/**
 * A POST whose body stops arriving: the headers promise `declaredBytes`, `sentBytes` are written,
 * then the socket is destroyed (a client that gives up mid-upload). Resolves once it is destroyed.
 */
export async function abortedUpload(
  port: number,
  path: string,
  headers: Record<string, string>,
  declaredBytes: number,
  sentBytes: number,
  pauseMs = 50,
): Promise<void> {
  await new Promise<void>((resolve) => {
    const request = httpRequest({
      host: '127.0.0.1',
      port,
      path,
      method: 'POST',
      headers: { ...headers, 'content-length': String(declaredBytes) },
    });
    request.on('error', () => resolve());
    request.on('close', () => resolve());
    request.write('{"issue":"' + 'x'.repeat(Math.max(0, sentBytes - 10)));
    setTimeout(() => request.destroy(), pauseMs);
  });
}

export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
