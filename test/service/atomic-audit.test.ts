// Defect 3 of issue 14 on the in-memory stores and on a SQLite file (a trigger makes the audit
// table refuse inserts); the PostgreSQL run is test/storage/atomic-audit.postgres.integration.test.ts.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { InMemoryAuditRecorder } from '../../src/audit/recorder.js';
import { openStorage } from '../../src/sessions/factory.js';
import { InMemorySessionStore } from '../../src/sessions/in-memory-session-store.js';
import { type AtomicStorage, describeAtomicAudit } from './atomic-audit.scenario.js';

describeAtomicAudit('in memory', async () => {
  const audit = new InMemoryAuditRecorder();
  const sessions = new InMemorySessionStore(undefined, audit);
  const storage: AtomicStorage = {
    sessions,
    audit,
    breakAudit: async () => {
      audit.unavailable = true;
    },
    repairAudit: async () => {
      audit.unavailable = false;
    },
    reopen: async () => storage,
    close: async () => undefined,
  };
  return storage;
});

describeAtomicAudit('SQLite', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'kubemend-atomic-')), 'kubemend.db');
  /** Another connection to the file, as an operator (or a full disk) would break it. */
  const admin = (sql: string) => {
    const db = new Database(path);
    try {
      db.exec(sql);
    } finally {
      db.close();
    }
  };
  const opened = async (): Promise<AtomicStorage> => {
    const storage = await openStorage({ driver: 'sqlite', path });
    return {
      sessions: storage.sessions,
      audit: storage.audit,
      breakAudit: async () =>
        admin(
          `CREATE TRIGGER audit_unwritable BEFORE INSERT ON audit_records
           BEGIN SELECT RAISE(ABORT, 'disk I/O error (test)'); END`,
        ),
      repairAudit: async () => admin('DROP TRIGGER audit_unwritable'),
      reopen: async () => {
        await storage.close();
        return opened();
      },
      close: () => storage.close(),
    };
  };
  return opened();
});
