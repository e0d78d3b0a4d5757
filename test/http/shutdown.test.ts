/**
 * Graceful shutdown of a real `kubemend serve` process (offline; the execution hand-over against
 * the control plane is in shutdown.integration.test.ts). One SIGTERM:
 * /readyz turns 503 at once while /livez stays 200; requests are still served during
 * `server.shutdownDelay`; then no new connections; a request in flight finishes; one that never
 * completes is cut at `server.shutdownTimeout`; the process exits 0 within it.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { type ClientRequest, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/auth/authenticator.js';
import { type ServeProcess, startServe } from '../deploy/support.js';

const TOKEN = 'shutdown-test-token-0123456789';
const directory = mkdtempSync(join(tmpdir(), 'kubemend-shutdown-'));
const config = join(directory, 'kubemend.yaml');
writeFileSync(
  config,
  [
    'server:',
    '  shutdownDelay: 1500ms',
    '  shutdownTimeout: 5s',
    'auth:',
    '  tokens:',
    `    - { name: ci, sha256: ${hashToken(TOKEN)}, scopes: [remediate:analyze] }`,
  ].join('\n'),
);
const body = JSON.stringify({ issue: 'web keeps restarting: OOMKilled, exit code 137' });

let server: ServeProcess | undefined;
afterAll(async () => {
  await server?.stop(2_000);
});

/** A POST whose headers and first bytes go now; `finish()` sends the rest. */
function upload(base: string): {
  request: ClientRequest;
  answer: Promise<{ status: number; connection?: string }>;
  finish: () => void;
} {
  const url = new URL('/v1/remediate', base);
  let request!: ClientRequest;
  const answer = new Promise<{ status: number; connection?: string }>((resolve, reject) => {
    request = httpRequest(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TOKEN}`,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      },
    });
    request.on('response', (response) => {
      response.resume();
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, connection: response.headers.connection }),
      );
    });
    request.on('error', reject);
  });
  request.write(body.slice(0, 10));
  return { request, answer, finish: () => request.end(body.slice(10)) };
}

describe('kubemend serve on SIGTERM', () => {
  it('turns unready first, drains, finishes what is in flight, cuts what never ends, exits 0', async () => {
    server = await startServe({
      cwd: process.cwd(),
      entry: 'src/interfaces/cli/main.ts',
      env: {
        NODE_OPTIONS: '--import tsx',
        KUBEMEND_CONFIG: config,
        KUBEMEND_STORAGE: 'memory',
        KUBEMEND_OFFLINE: 'true',
        KUBEMEND_LOG_LEVEL: 'warn',
        HOME: directory,
      },
      args: ['--log-level', 'info'],
    });
    const { base } = server;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const inFlight = upload(base);
    const stuck = upload(base);
    const stuckOutcome = stuck.answer.then(
      (answer) => `answered ${answer.status}`,
      (error: Error) => `cut: ${error.message}`,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));

    const signalled = performance.now();
    server.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    // 1. Unready at once; alive; still serving (the load balancer may not know yet).
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: Record<string, string> }).checks.shutdown).toMatch(/stopping/);
    expect((await fetch(`${base}/livez`)).status).toBe(200);
    const during = await fetch(`${base}/v1/remediate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body,
    });
    expect(during.status).toBe(200);
    expect(during.headers.get('connection')).toBe('close');

    // 2. After the delay: no new connections; the request in flight still finishes.
    await new Promise((resolve) => setTimeout(resolve, 1_800));
    await expect(fetch(`${base}/livez`)).rejects.toThrow();
    inFlight.finish();
    expect((await inFlight.answer).status).toBe(200);

    // 3. The request that never completes is cut at the deadline; the process exits 0 within it.
    expect(await stuckOutcome).toMatch(/^cut|^answered 408/);
    expect(await server.exited()).toEqual({ code: 0, signal: null });
    const seconds = (performance.now() - signalled) / 1000;
    expect(seconds).toBeLessThan(12); // the 5 s deadline, start-up of tsx aside
    expect(server.output()).toContain('SIGTERM: stopping');
  }, 90_000);
});
