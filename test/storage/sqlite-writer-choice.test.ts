/**
 * `storage.sqliteWriter: auto` (the default) starts the SQLite writer thread for a long-running
 * command and writes inline for a one-shot run (`kubemend analyze`), whose few writes would wait
 * for a thread to start; `thread` and `inline` are obeyed as given. Observed as the process's OS
 * threads (Linux /proc/self/task), after a first run has started libuv's pool.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createApplication } from '../../src/app.js';
import { loadConfiguration } from '../../src/config/configuration.js';
import { temporaryDirectory } from './support.js';

const directory = temporaryDirectory('kubemend-writer-choice-');
const example = JSON.parse(readFileSync('examples/oom-killed.json', 'utf8')) as never;
const threads = () => readdirSync('/proc/self/task').length;

afterAll(() => rmSync(directory, { recursive: true, force: true }));

async function threadsWhileOpen(sqliteWriter: 'auto' | 'thread' | 'inline', oneShot: boolean, name: string) {
  const configuration = loadConfiguration({
    env: {},
    flags: {
      storage: { path: join(directory, `${name}.db`), sqliteWriter },
      cluster: { offline: true },
    } as never,
  });
  const app = await createApplication(configuration, { cluster: null, oneShot });
  try {
    const before = threads();
    const output = await app.service.remediate(example);
    expect(output.sessionId).toBeTruthy();
    return threads() - before;
  } finally {
    await app.close();
  }
}

describe.runIf(process.platform === 'linux')('storage.sqliteWriter', () => {
  it.each([
    ['auto', true, false],
    ['auto', false, true],
    ['thread', true, true],
    ['inline', false, false],
  ] as const)('%s with oneShot %s: a writer thread %s', async (setting, oneShot, thread) => {
    await threadsWhileOpen('inline', true, `warm-${setting}-${oneShot}`); // libuv's pool, started once
    const base = threads();
    const added = await threadsWhileOpen(setting, oneShot, `${setting}-${oneShot}`);
    expect(added > 0, `threads: ${base} before, +${added} while open`).toBe(thread);
  });
});
