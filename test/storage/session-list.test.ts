/**
 * The `list` query contract on the stores that need no server (in memory, SQLite in memory), and
 * the SQLite migration that fills the filter columns of sessions stored before it.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrateSqlite, openSqliteDatabase } from '../../src/storage/sqlite.js';
import { InMemorySessionStore } from '../../src/sessions/in-memory-session-store.js';
import { SQLITE_SESSION_MIGRATIONS, SqliteSessionStore } from '../../src/sessions/sqlite-session-store.js';
import { describeSessionListContract } from './session-list.contract.js';
import { SAMPLE_INPUT, SAMPLE_OUTPUT, temporaryDirectory } from './support.js';

describeSessionListContract('in memory', {
  async open() {
    const store = new InMemorySessionStore();
    return { store, dispose: () => store.close() };
  },
});

describeSessionListContract('SQLite (:memory:)', {
  async open() {
    const store = new SqliteSessionStore(':memory:');
    return { store, dispose: () => store.close() };
  },
});

describe('SQLite migration 2: the filter columns of sessions stored before it', () => {
  it('are filled from the stored JSON, so older sessions filter like new ones', async () => {
    const directory = temporaryDirectory('kubemend-list-');
    const path = join(directory, 'kubemend.db');
    try {
      const db = openSqliteDatabase(path);
      migrateSqlite(db, 'sessions', SQLITE_SESSION_MIGRATIONS.slice(0, 1));
      db.prepare(
        `INSERT INTO sessions (id, state, phase, created_at, updated_at, actor, input, output, approvals, results, version)
         VALUES (?, 'pending', 'done', ?, ?, 'test', ?, ?, '[]', '[]', 1)`,
      ).run(
        'old',
        '2026-11-01T08:00:00.000Z',
        '2026-11-01T08:00:00.000Z',
        JSON.stringify(SAMPLE_INPUT),
        JSON.stringify(SAMPLE_OUTPUT),
      );
      db.close();
      const store = new SqliteSessionStore(path);
      try {
        expect((await store.list({ namespace: 'payments' })).map((s) => s.id)).toEqual(['old']);
        expect((await store.list({ category: 'crash-loop' })).map((s) => s.id)).toEqual(['old']);
        expect(await store.list({ category: 'oom-killed' })).toEqual([]);
      } finally {
        await store.close();
      }
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
