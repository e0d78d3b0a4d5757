/**
 * `npm run bench:mcp`: what it costs to serve an MCP session on a process that did not initialise
 * it (ADR 0043). Two `kubemend serve --offline` processes (the bundle) on one SQLite file; 30
 * sessions initialised on the first; then a `ping` in each session on the first (it holds them),
 * on the second (each first request rebuilds the session from its record), and on the second
 * again. Medians per request, with the worst rebuild. Writes bench/results/mcp-latest.json.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { hashToken } from '../src/auth/authenticator.js';

const TOKEN = 'bench-mcp-token-0123456789abcdef';
const SESSIONS = 30;
const directory = mkdtempSync(join(tmpdir(), 'kubemend-mcp-bench-'));
const config = join(directory, 'kubemend.yaml');
writeFileSync(
  config,
  `auth:\n  tokens:\n    - name: bench\n      sha256: ${hashToken(TOKEN)}\n      scopes: [remediate:analyze]\n`,
);
const HEADERS = {
  authorization: `Bearer ${TOKEN}`,
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
};
const base = 18_900 + Math.floor(Math.random() * 400);

function serve(port: number): ChildProcess {
  return spawn(
    process.execPath,
    ['dist/bundle/kubemend.js', 'serve', '--offline', '--port', String(port), '--config', config],
    {
      env: { ...process.env, KUBEMEND_DB_PATH: join(directory, 'kubemend.db'), KUBEMEND_LOG_LEVEL: 'error' },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
}

async function ready(port: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if ((await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok) return;
    await sleep(100);
  }
  throw new Error(`kubemend serve on ${port} did not become ready`);
}

async function initialize(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/mcp`, {
    method: 'POST',
    headers: HEADERS,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'bench', version: '1' },
      },
    }),
  });
  await response.text();
  const session = response.headers.get('mcp-session-id');
  if (response.status !== 200 || !session) throw new Error(`initialize answered ${response.status}`);
  return session;
}

async function ping(port: number, session: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(`http://127.0.0.1:${port}/mcp`, {
    method: 'POST',
    headers: { ...HEADERS, 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' }),
  });
  await response.text();
  if (response.status !== 200) throw new Error(`ping on ${port} answered ${response.status}`);
  return performance.now() - started;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const round = (ms: number) => Number(ms.toFixed(2));

const servers = [serve(base), serve(base + 1)];
try {
  await Promise.all([ready(base), ready(base + 1)]);
  const sessions: string[] = [];
  for (let i = 0; i < SESSIONS; i++) sessions.push(await initialize(base));
  for (const session of sessions) await ping(base, session); // warm-up
  const pings = async (port: number) => {
    const times: number[] = [];
    for (const session of sessions) times.push(await ping(port, session));
    return times;
  };
  const holding = await pings(base);
  const rebuilding = await pings(base + 1);
  const rebuilt = await pings(base + 1);
  const result = {
    sessions: SESSIONS,
    holdingMedianMs: round(median(holding)),
    rebuildMedianMs: round(median(rebuilding)),
    rebuildMaxMs: round(Math.max(...rebuilding)),
    rebuiltMedianMs: round(median(rebuilt)),
  };
  console.log(
    `MCP ping, ${SESSIONS} sessions: on the process holding them ${result.holdingMedianMs} ms (median); the first on another process, which rebuilds the session from its record, ${result.rebuildMedianMs} ms (max ${result.rebuildMaxMs} ms); later ones there ${result.rebuiltMedianMs} ms`,
  );
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/mcp-latest.json',
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, ...result }, null, 2)}\n`,
  );
} finally {
  for (const server of servers) server.kill('SIGTERM');
}
