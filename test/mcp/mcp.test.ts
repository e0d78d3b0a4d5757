/**
 * MCP, driven by the SDK's own Client: over stdio against `kubemend mcp` (a real child process)
 * and over Streamable HTTP against the same server factory `kubemend serve` uses. Offline: tools,
 * truthful annotations, analysis with structured content, error results, resources.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApplication, type Application } from '../../src/app.js';
import { hashToken } from '../../src/auth/authenticator.js';
import { loadConfiguration } from '../../src/config/configuration.js';
import { RemediateOutputSchema } from '../../src/domain/index.js';
import { createHttpServer } from '../../src/interfaces/http/server.js';
import { loadIncidents } from '../support/incidents.js';

const incident = loadIncidents('test/corpus').find((c) => c.file.startsWith('config-missing/'))!;
const TOKEN = 'mcp-analyst-token-0123456789';

async function exercise(client: Client, approveError: RegExp): Promise<void> {
  const { tools } = await client.listTools();
  const byName = Object.fromEntries(tools.map((tool) => [tool.name, tool]));
  expect(Object.keys(byName).sort()).toEqual(['analyze', 'approve', 'reject', 'remediate', 'scan']);
  expect(byName.scan?.annotations).toMatchObject({ readOnlyHint: true, destructiveHint: false });
  expect(byName.analyze?.annotations).toMatchObject({
    readOnlyHint: true,
    destructiveHint: false,
    openWorldHint: true,
  });
  expect(byName.approve?.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
  expect(byName.remediate?.annotations).toMatchObject({
    readOnlyHint: false,
    destructiveHint: true,
    openWorldHint: true,
  });
  expect(byName.remediate?.inputSchema.properties).toHaveProperty('issue');
  expect(byName.remediate?.outputSchema?.properties).toHaveProperty('analysis');

  const analysis = await client.callTool({
    name: 'analyze',
    arguments: { issue: incident.input.issue, context: incident.input.context },
  });
  expect(analysis.isError).toBeFalsy();
  const output = RemediateOutputSchema.parse(analysis.structuredContent);
  expect(output.analysis.category).toBe('config-missing');
  const text = (analysis.content as Array<{ type: string; text: string }>)[0]!.text;
  expect(text).toMatch(/Root cause:/);
  expect(text).toContain(output.analysis.rootCause);

  const session = await client.readResource({ uri: `kubemend://sessions/${output.sessionId}` });
  expect(JSON.parse((session.contents[0] as { text: string }).text)).toMatchObject({ id: output.sessionId });

  const bad = await client.callTool({ name: 'remediate', arguments: { issue: '', mode: 'yolo' } });
  expect(bad.isError).toBe(true);
  expect((bad.content as Array<{ text: string }>)[0]!.text).toMatch(/issue|mode/);

  const approve = await client.callTool({ name: 'approve', arguments: { sessionId: 'does-not-exist' } });
  expect(approve.isError).toBe(true);
  expect((approve.content as Array<{ text: string }>)[0]!.text).toMatch(approveError);
}

describe('MCP over stdio (kubemend mcp)', () => {
  it('serves tools, analysis and resources to the SDK client', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: ['--import', 'tsx', 'src/interfaces/cli/main.ts', 'mcp', '--offline'],
      env: {
        ...(process.env as Record<string, string>),
        KUBEMEND_STORAGE: 'memory',
        KUBEMEND_LOG_LEVEL: 'silent',
      },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'kubemend-test', version: '1.0.0' });
    await client.connect(transport);
    try {
      await exercise(client, /not found/); // the local user may approve; the session does not exist
    } finally {
      await client.close();
    }
  }, 60_000);
});

describe('MCP over Streamable HTTP (/mcp)', () => {
  let app: Application;
  let http: FastifyInstance;
  let url: URL;

  beforeAll(async () => {
    const configuration = loadConfiguration({
      env: {},
      flags: {
        logLevel: 'silent',
        storage: { driver: 'memory', retention: '30d' },
        cluster: { offline: true, gatherTimeoutMs: 4_000, maxApiCalls: 60 },
        auth: {
          tokens: [{ name: 'analyst', sha256: hashToken(TOKEN), scopes: ['remediate:analyze'] }],
          serviceAccounts: [],
        },
      } as never,
    });
    app = await createApplication(configuration, { cluster: null });
    ({ app: http } = await createHttpServer({
      service: app.service,
      configuration,
      authenticator: app.authenticator,
    }));
    await http.listen({ host: '127.0.0.1', port: 0 });
    url = new URL(`http://127.0.0.1:${(http.server.address() as { port: number }).port}/mcp`);
  });

  afterAll(async () => {
    await http.close();
    await app.close();
  });

  it('serves tools, analysis and resources to the SDK client', async () => {
    const client = new Client({ name: 'kubemend-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(url, {
        requestInit: { headers: { authorization: `Bearer ${TOKEN}` } },
      }),
    );
    try {
      await exercise(client, /remediate:execute/); // an analyst token may analyse but not approve
      const denied = await client.callTool({
        name: 'remediate',
        arguments: { issue: 'x', mode: 'automatic' },
      });
      expect(denied.isError).toBe(true);
      expect((denied.content as Array<{ text: string }>)[0]!.text).toMatch(/remediate:execute/);
    } finally {
      await client.close();
    }
  });

  it('refuses a client without a token', async () => {
    const client = new Client({ name: 'anonymous', version: '1.0.0' });
    await expect(client.connect(new StreamableHTTPClientTransport(url))).rejects.toThrow(/401|bearer/i);
  });
});
