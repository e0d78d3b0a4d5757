/**
 * A separate process working on a SQLite database, for sqlite.integration.test.ts (run with
 * `node --import tsx`):
 *
 *   open        PATH                              open (and migrate) the stores, then exit
 *   transition  PATH ID ATTEMPTS START_AT OWNER   at START_AT (epoch ms), ATTEMPTS transitions
 *                                                 approved → executing; prints {"won": n}
 *   append      PATH COUNT START_AT ACTOR         at START_AT, COUNT appends; prints {"sequences": [...]}
 *   durability  PATH                              forever: create a session, append a record; prints
 *                                                 `session ID` / `audit SEQUENCE HASH` after each resolved
 */
import { writeSync } from 'node:fs';
import { SqliteAuditRecorder } from '../../src/audit/sqlite-audit-recorder.js';
import { SqliteSessionStore } from '../../src/sessions/sqlite-session-store.js';
import { auditEntry, newSession } from './support.js';

const [mode, path, ...rest] = process.argv.slice(2);

async function waitUntil(epochMs: number): Promise<void> {
  const delay = epochMs - Date.now();
  if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
}

/** Written synchronously, so a line is out before the next write begins. */
function say(line: string): void {
  writeSync(1, `${line}\n`);
}

async function main(): Promise<void> {
  if (path === undefined) throw new Error('usage: sqlite-child.ts MODE PATH ...');
  switch (mode) {
    case 'open': {
      await new SqliteSessionStore(path).close();
      await new SqliteAuditRecorder(path).close();
      return;
    }
    case 'transition': {
      const [id, attempts, startAt, owner] = rest;
      const store = new SqliteSessionStore(path);
      await waitUntil(Number(startAt));
      const results = await Promise.all(
        Array.from({ length: Number(attempts) }, (_, i) =>
          store.transition(id!, ['approved'], 'executing', { owner: `${owner}-${i}` }),
        ),
      );
      say(JSON.stringify({ won: results.filter((result) => result !== undefined).length }));
      await store.close();
      return;
    }
    case 'append': {
      const [count, startAt, actor] = rest;
      const recorder = new SqliteAuditRecorder(path);
      await waitUntil(Number(startAt));
      const sequences: number[] = [];
      for (let i = 0; i < Number(count); i++) {
        sequences.push((await recorder.record({ ...auditEntry(i), actor: actor ?? 'child' })).sequence);
      }
      say(JSON.stringify({ sequences }));
      await recorder.close();
      return;
    }
    case 'durability': {
      const sessions = new SqliteSessionStore(path);
      const recorder = new SqliteAuditRecorder(path);
      for (let i = 0; ; i++) {
        const session = await sessions.create(newSession());
        say(`session ${session.id}`);
        const record = await recorder.record({ ...auditEntry(i, session.id), type: 'session.created' });
        say(`audit ${record.sequence} ${record.hash}`);
      }
    }
    default:
      throw new Error(`unknown mode ${String(mode)}`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
