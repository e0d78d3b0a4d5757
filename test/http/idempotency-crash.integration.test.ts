/**
 * Issue 14, defect 4: a `kubemend serve` killed with SIGKILL between creating a session and
 * answering must not leave the Idempotency-Key stuck ("still in flight" for ever, also after a
 * restart). The analysis is held open by a model endpoint that never answers; the process is
 * killed while it waits. After the restart, reconciliation settles the unanswered session once the
 * dead process's lease (2 s here) has lapsed: it ends `failed`, its key is released, and the retry
 * with the same key and body runs again and is answered. No cluster needed (offline analysis).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/auth/authenticator.js';
import { spawnOfflineServe } from './serve-process.js';

const TOKEN = 'operator-token-abcdefghijklmnop';
const children: ChildProcess[] = [];
let model: Server | undefined;

afterAll(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  model?.closeAllConnections();
  model?.close();
});

/** A model endpoint that takes every request and never answers; resolves each time one arrives. */
async function silentModel(): Promise<{ port: number; asked: () => number }> {
  let count = 0;
  model = createServer(() => {
    count++;
  });
  await new Promise<void>((resolve) => model!.listen(0, '127.0.0.1', resolve));
  return { port: (model.address() as { port: number }).port, asked: () => count };
}

function serve(directory: string, port: number, env: Record<string, string>): ChildProcess {
  const config = join(directory, 'kubemend.yaml');
  writeFileSync(
    config,
    `storage:\n  executionLease: 2s\nauth:\n  tokens:\n    - name: operator\n      sha256: ${hashToken(TOKEN)}\n      scopes: [remediate:analyze, remediate:execute, audit:read]\n`,
  );
  const child = spawnOfflineServe(config, port, {
    KUBEMEND_DB_PATH: join(directory, 'kubemend.db'),
    ANTHROPIC_API_KEY: '',
    OPENAI_API_KEY: '',
    ...env,
  });
  children.push(child);
  return child;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('an Idempotency-Key after a SIGKILL between session and answer', () => {
  it('is released by reconciliation after the restart: the retry runs again and is answered', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'kubemend-idem-'));
    const port = 19_000 + Math.floor(Math.random() * 1_000);
    const base = `http://127.0.0.1:${port}`;
    const body = JSON.stringify({
      issue: 'checkout pods are OOMKilled',
      target: { kind: 'Deployment', namespace: 'shop', name: 'checkout' },
    });
    const send = () =>
      fetch(`${base}/v1/remediate`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${TOKEN}`,
          'content-type': 'application/json',
          'idempotency-key': 'retry-me',
        },
        body,
      });
    const ready = () =>
      until('serve ready', async () => ((await fetch(`${base}/readyz`)).ok ? true : undefined), 60_000);
    const { port: modelPort, asked } = await silentModel();

    // 1. The first life: the request opens its session, the analysis waits for the model — SIGKILL.
    let server = serve(directory, port, {
      KUBEMEND_AI_PROVIDER: 'openai',
      OPENAI_API_KEY: 'test-key',
      OPENAI_BASE_URL: `http://127.0.0.1:${modelPort}/v1`,
      KUBEMEND_AI_MODEL: 'silent',
      KUBEMEND_AI_TIMEOUT_MS: '300000',
      KUBEMEND_AI_CALL_TIMEOUT_MS: '300000',
    });
    await ready();
    const first = send().catch(() => undefined);
    await until('the analysis to ask the model', async () => (asked() > 0 ? true : undefined), 30_000);
    server.kill('SIGKILL');
    await new Promise((resolve) => server.once('exit', resolve));
    await first;

    // 2. The restart (rules only). Until the dead process's lease lapses the key is in flight (409);
    //    then reconciliation settles the session and the retry runs again.
    server = serve(directory, port, {});
    await ready();
    const statuses: number[] = [];
    const answered = await until(
      'the retry to be answered',
      async () => {
        const response = await send();
        statuses.push(response.status);
        return response.status === 200
          ? ((await response.json()) as { sessionId: string; status: string })
          : undefined;
      },
      20_000,
    );
    expect(statuses.every((status) => status === 409 || status === 200)).toBe(true);
    expect(answered.sessionId).toBeTruthy();

    // The stuck session ended failed with its record; the retry is a new session under the key.
    const headers = { authorization: `Bearer ${TOKEN}` };
    const audit = (await (await fetch(`${base}/v1/audit`, { headers })).json()) as {
      records: Array<{ type: string; sessionId?: string; detail?: Record<string, unknown> }>;
    };
    const reconciled = audit.records.find((r) => r.type === 'session.reconciled');
    expect(reconciled?.detail).toMatchObject({ state: 'failed', idempotencyKeyReleased: true });
    expect(reconciled?.sessionId).not.toBe(answered.sessionId);
    const stuck = (await (
      await fetch(`${base}/v1/sessions/${reconciled!.sessionId}`, { headers })
    ).json()) as {
      state: string;
    };
    expect(stuck.state).toBe('failed');

    // A second retry replays the answer (same session).
    const replayed = (await (await send()).json()) as { sessionId: string };
    expect(replayed.sessionId).toBe(answered.sessionId);
    expect(((await (await fetch(`${base}/v1/audit/verify`, { headers })).json()) as { ok: boolean }).ok).toBe(
      true,
    );
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
  }, 120_000);
});
