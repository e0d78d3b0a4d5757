/**
 * MCP tool `scan` and words-only `analyze`, through the SDK's own Client (in-process transport)
 * against an in-memory cluster: truthful read-only annotations, the ScanReport as structured
 * content, the table as text, progress notifications, and errors as tool results.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Application, createApplication } from '../../src/app.js';
import { localPrincipal } from '../../src/auth/authenticator.js';
import { loadConfiguration } from '../../src/config/configuration.js';
import { RemediateOutputSchema, ScanReportSchema } from '../../src/domain/index.js';
import { createMcpServer } from '../../src/interfaces/mcp/server.js';
import { InMemoryClusterGateway } from '../support/in-memory-gateway.js';
import { World } from '../scan/world.js';

let application: Application;
let client: Client;

beforeAll(async () => {
  const world = new World()
    .node('node-a')
    .deployment('shop', 'checkout', 'crashloop')
    .deployment('shop', 'cart', 'oom', { container: { memory: '128Mi' } })
    .deployment('shop', 'web', 'running');
  const gateway = new InMemoryClusterGateway();
  for (const name of ['checkout', 'cart']) gateway.rollouts.set(name, 'unhealthy');
  for (const object of world.objects) gateway.put(object);
  gateway.put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
  const configuration = loadConfiguration({ env: {}, flags: { storage: { driver: 'memory' } } as never });
  application = await createApplication(configuration, { cluster: gateway, scan: { settleMs: 0 } });
  const server = createMcpServer({ service: application.service, principal: localPrincipal });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  client = new Client({ name: 'scan-test', version: '1.0.0' });
  await client.connect(clientSide);
});

afterAll(async () => {
  await client.close();
  await application.close();
});

describe('MCP tool scan', () => {
  it('is read-only and idempotent, and takes the ScanRequest', async () => {
    const { tools } = await client.listTools();
    const scan = tools.find((tool) => tool.name === 'scan')!;
    expect(scan.annotations).toMatchObject({
      readOnlyHint: true,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: true,
    });
    expect(Object.keys(scan.inputSchema.properties ?? {})).toEqual([
      'namespaces',
      'allNamespaces',
      'labelSelector',
      'policy',
      'cluster',
    ]);
    expect(scan.outputSchema?.properties).toHaveProperty('findings');
  });

  it('returns the report as structured content and the table as text, with progress', async () => {
    const progress: string[] = [];
    const result = await client.callTool({ name: 'scan', arguments: { namespaces: ['shop'] } }, undefined, {
      onprogress: (notification) => progress.push(notification.message ?? ''),
    });
    expect(result.isError).toBeFalsy();
    const report = ScanReportSchema.parse(result.structuredContent);
    expect(report.findings.map((f) => `${f.object.name} ${f.category}`)).toEqual([
      'cart oom-killed',
      'checkout crash-loop',
    ]);
    const text = (result.content as Array<{ text: string }>)[0]!.text;
    expect(text).toMatch(/^NAMESPACE\s+OBJECT\s+CATEGORY\s+CONFIDENCE\s+CAUSE\s+ACTION \(RISK\)/);
    expect(text).toMatch(/shop\s+deploy\/cart\s+oom-killed\s+0\.95/);
    expect(progress.length).toBeGreaterThan(0);
  });

  it('answers bad arguments with a tool error naming the field', async () => {
    const result = await client.callTool({ name: 'scan', arguments: { labelSelector: 'app in web' } });
    expect(result.isError).toBe(true);
    expect((result.content as Array<{ text: string }>)[0]!.text).toMatch(/labelSelector/);
  });
});

describe('MCP tool analyze with words only', () => {
  it('resolves the object from the words, as a person writes in Claude Code', async () => {
    const result = await client.callTool({
      name: 'analyze',
      arguments: { issue: 'the cart service in the shop namespace is down, can you fix it?' },
    });
    const output = RemediateOutputSchema.parse(result.structuredContent);
    expect(output.analysis.category).toBe('oom-killed');
    expect(output.analysis.target).toMatchObject({ chosenBy: 'words', kind: 'Deployment', name: 'cart' });
  });
});
