/** The `list` query contract on the stores that need no server: in memory, and SQLite in memory. */
import { InMemorySessionStore } from '../../src/sessions/in-memory-session-store.js';
import { SqliteSessionStore } from '../../src/sessions/sqlite-session-store.js';
import { describeSessionListContract } from './session-list.contract.js';

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
