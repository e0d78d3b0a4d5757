/**
 * Graceful shutdown of `kubemend serve` with an execution under way, against the control plane:
 * - a deadline long enough: the execution finishes (verified) before the process exits 0;
 * - a deadline too short: the process exits 0 at the deadline, having handed the session over, and
 *   the next instance on the same database takes it over at once — not a whole lease later (the
 *   lease is 120 s here) — and restores the snapshot.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createOomKilled,
  kubectl,
  memoryLimitOf,
  requireCluster,
  runClusterScript,
  uniqueName,
} from '../cluster/cluster-harness.js';
import {
  type Json,
  OPERATOR,
  remediateUntilApplied,
  serveProcess,
  settled,
  stopProcess,
} from './serve-process.js';

const namespace = uniqueName('shutdown');

beforeAll(async () => {
  await requireCluster();
  runClusterScript('kubemend-identity.sh', [namespace]);
});

afterAll(() => {
  kubectl(['delete', 'namespace', namespace, '--wait=false'], { timeout: 30_000 });
});

function exited(server: ReturnType<ReturnType<typeof serveProcess>['launch']>) {
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    server.once('exit', (code, signal) => resolve({ code, signal })),
  );
}

const memoryOf = (name: string) => memoryLimitOf(namespace, name);

describe('kubemend serve on SIGTERM with an execution under way', () => {
  it('lets the execution finish within server.shutdownTimeout, then exits 0', async () => {
    await createOomKilled('finishes', namespace);
    const directory = mkdtempSync(join(tmpdir(), 'kubemend-stop-finish-'));
    const port = 19_000 + Math.floor(Math.random() * 500);
    const base = `http://127.0.0.1:${port}`;
    const { launch, ready } = serveProcess(directory, port, 'server:\n  shutdownTimeout: 150s\n');
    const server = launch();
    try {
      await ready();
      const read = await remediateUntilApplied(base, namespace, 'finishes');
      const { id } = (await read()) as { id: string };
      const exit = exited(server);
      server.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await fetch(`${base}/readyz`).catch(() => undefined))?.status ?? 'closed').not.toBe(200);
      expect(await exit).toEqual({ code: 0, signal: null });
      // The process is gone: read the session through a second instance on the same database.
      const second = serveProcess(directory, port + 500, 'server:\n  shutdownTimeout: 5s\n');
      const reader = second.launch();
      try {
        await second.ready();
        const session = (await (
          await fetch(`http://127.0.0.1:${port + 500}/v1/sessions/${id}`, {
            headers: { authorization: `Bearer ${OPERATOR}` },
          })
        ).json()) as Json;
        expect(session.state).toBe('verified');
        expect(memoryOf('finishes')).not.toBe('128Mi');
      } finally {
        await stopProcess(reader);
      }
    } finally {
      await stopProcess(server);
    }
  }, 240_000);

  it('at a short deadline hands the session over; the next instance takes it over at once and restores it', async () => {
    await createOomKilled('handover', namespace);
    const directory = mkdtempSync(join(tmpdir(), 'kubemend-stop-handover-'));
    const port = 19_600 + Math.floor(Math.random() * 300);
    const config = 'storage:\n  executionLease: 120s\nserver:\n  shutdownTimeout: 1s\n';
    const first = serveProcess(directory, port, config);
    let server = first.launch();
    const base = `http://127.0.0.1:${port}`;
    try {
      await first.ready();
      const read = await remediateUntilApplied(base, namespace, 'handover');
      const { id } = (await read()) as { id: string };
      const exit = exited(server);
      const signalled = Date.now();
      server.kill('SIGTERM');
      expect(await exit).toEqual({ code: 0, signal: null });
      expect(Date.now() - signalled).toBeLessThan(15_000);
      expect(memoryOf('handover')).not.toBe('128Mi');

      // The next instance (a restart, or another replica) on the same database.
      server = first.launch();
      await first.ready();
      const started = Date.now();
      const session = await settled(read, 60_000);
      expect(session.id).toBe(id);
      expect(session.state).toBe('rolled-back');
      // Taken over at once: long before the 120 s lease would have lapsed.
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(memoryOf('handover')).toBe('128Mi');
      const audit = (await (
        await fetch(`${base}/v1/audit?sessionId=${id}`, { headers: { authorization: `Bearer ${OPERATOR}` } })
      ).json()) as Json;
      expect(audit.records.map((r: Json) => r.type)).toEqual(
        expect.arrayContaining(['action.applied', 'action.rolled-back', 'session.reconciled']),
      );
    } finally {
      await stopProcess(server);
    }
  }, 240_000);
});
