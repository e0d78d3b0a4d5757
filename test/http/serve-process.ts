/**
 * `kubemend serve` child processes against the control plane (SQLite in a directory, kubemend's
 * least-privilege kubeconfig), and the helpers that drive an execution through them. Shared by the
 * crash-safety and graceful-shutdown suites.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { hashToken } from '../../src/auth/authenticator.js';
import { KUBEMEND_KUBECONFIG, waitFor } from '../cluster/cluster-harness.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export const OPERATOR = 'operator-token-abcdefghijklmnop';

/** SIGTERM, and SIGKILL if the process has not exited 10 s later: no test leaves a server behind. */
export async function stopProcess(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGTERM');
  const timer = setTimeout(() => server.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export async function post(
  base: string,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Json; headers: Headers }> {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Json, headers: response.headers };
}

/**
 * Starts an automatic remediation of Deployment `name` asynchronously on `base` and waits until its
 * change is applied (and being verified). Returns a reader of the session.
 */
export async function remediateUntilApplied(
  base: string,
  namespace: string,
  name: string,
): Promise<() => Promise<Json>> {
  const accepted = await post(
    base,
    '/v1/remediate',
    { issue: `${name} keeps restarting`, target: { kind: 'Deployment', namespace, name }, mode: 'automatic' },
    { prefer: 'respond-async' },
  );
  expect(accepted.status).toBe(202);
  const location = accepted.headers.get('location')!;
  const read = async (): Promise<Json> =>
    (await (
      await fetch(`${base}${location}`, { headers: { authorization: `Bearer ${OPERATOR}` } })
    ).json()) as Json;
  await waitFor(
    'the change applied',
    async () => ((await read()).results?.some((r: Json) => r.status === 'applied') ? true : undefined),
    60_000,
    100,
  );
  return read;
}

/** The session once it has left `executing`. */
export function settled(read: () => Promise<Json>, timeoutMs: number): Promise<Json> {
  return waitFor(
    'the session to leave executing',
    async () => {
      const current = await read();
      return current.state === 'executing' ? undefined : current;
    },
    timeoutMs,
    200,
  );
}

/**
 * A `kubemend serve` child process on `port`, with the SQLite file in `directory`; `config` is
 * YAML added to the configuration file (after the operator token).
 */
export function serveProcess(
  directory: string,
  port: number,
  config = 'storage:\n  executionLease: 3s\n',
): { launch: () => ChildProcess; ready: () => Promise<unknown> } {
  const file = join(directory, 'kubemend.yaml');
  writeFileSync(
    file,
    `${config}auth:\n  tokens:\n    - name: operator\n      sha256: ${hashToken(OPERATOR)}\n      scopes: [remediate:analyze, remediate:execute, audit:read]\n`,
  );
  const environment = {
    ...process.env,
    KUBEMEND_DB_PATH: join(directory, 'kubemend.db'),
    KUBEMEND_KUBECONFIG: KUBEMEND_KUBECONFIG,
    KUBEMEND_LOG_LEVEL: 'warn',
  };
  return {
    launch: () =>
      spawn(
        process.execPath,
        ['--import', 'tsx', 'src/interfaces/cli/main.ts', 'serve', '--port', String(port), '--config', file],
        { env: environment, stdio: ['ignore', 'ignore', 'pipe'] },
      ),
    ready: () =>
      waitFor(
        'serve ready',
        async () =>
          (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok ? true : undefined,
        60_000,
        200,
      ),
  };
}

/**
 * `kubemend serve --offline` from source on `port` with the configuration file `config`, its log at
 * warn; `env` is added to this process's environment; its stderr passes through unless `quiet`.
 */
export function spawnOfflineServe(
  config: string,
  port: number,
  env: NodeJS.ProcessEnv = {},
  quiet = false,
): ChildProcess {
  return spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/interfaces/cli/main.ts',
      'serve',
      '--offline',
      '--port',
      String(port),
      '--config',
      config,
    ],
    {
      env: { ...process.env, KUBEMEND_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'ignore', quiet ? 'ignore' : 'inherit'],
    },
  );
}
