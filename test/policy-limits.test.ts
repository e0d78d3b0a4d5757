/**
 * Policy limits at every edge, with a real policy file: under `maxReplicas: 5`, an autoscaler that
 * wants 10 replicas gets its `maxReplicas` raise to 10 refused by the policy gate, with a reason
 * naming the field — from `kubemend analyze` (a real process), `POST /v1/remediate` (a real HTTP
 * client against the server factory `kubemend serve` uses) and MCP over stdio (`kubemend mcp`, the
 * SDK's client). And a policy that would skip the dry-run of unattended changes is refused at load.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { describe, expect, it } from 'vitest';
import { createApplication } from '../src/app.js';
import { hashToken } from '../src/auth/authenticator.js';
import { loadConfiguration } from '../src/config/configuration.js';
import { type RemediateOutput, RemediateOutputSchema } from '../src/domain/index.js';
import { createHttpServer } from '../src/interfaces/http/server.js';

const directory = mkdtempSync(join(tmpdir(), 'kubemend-policy-'));
const INPUT_FILE = 'test/fixtures/hpa-wants-ten.json';
const input = JSON.parse(readFileSync(INPUT_FILE, 'utf8')) as Record<string, unknown>;

function policyFile(name: string, yaml: string): string {
  const path = join(directory, name);
  writeFileSync(path, yaml);
  return path;
}

const CAPPED = policyFile('capped.yaml', 'policies:\n  capped:\n    maxReplicas: 5\n');
const REASON =
  /^patch sets spec\.maxReplicas of HorizontalPodAutoscaler\/checkout to 10, above the policy's maxReplicas \(5\)$/;

/** The HPA raise, refused whatever the requested mode. */
function expectRefused(output: RemediateOutput): void {
  expect(output.analysis.category).toBe('hpa-limited');
  const raise = output.remediation.actions.find((action) => action.target.kind === 'HorizontalPodAutoscaler');
  expect(raise?.params).toEqual({ patchType: 'merge', patch: { spec: { maxReplicas: 10 } } });
  expect(raise?.decision?.decision).toBe('denied');
  expect(raise?.decision?.reason).toMatch(REASON);
  expect(output.results ?? []).toEqual([]);
}

/** `kubemend analyze --input <the fixture> --json --offline ...extra`. */
function analyze(...extra: string[]) {
  const args = ['analyze', '--input', INPUT_FILE, '--json', '--offline', ...extra];
  const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/interfaces/cli/main.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, KUBEMEND_POLICY_FILE: '', KUBEMEND_CONFIG: '' },
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('maxReplicas: 5 refuses an autoscaler raise to 10', () => {
  it('in the CLI', () => {
    const { code, stdout, stderr } = analyze('--mode', 'automatic', '--policy-file', CAPPED);
    expect(code, stderr).toBe(0);
    expectRefused(RemediateOutputSchema.parse(JSON.parse(stdout)));
  }, 60_000);

  it('in the HTTP API', async () => {
    const TOKEN = 'policy-operator-token-0123456789';
    const configuration = loadConfiguration({
      env: {},
      flags: {
        logLevel: 'silent',
        policyFile: CAPPED,
        storage: { driver: 'memory' },
        cluster: { offline: true },
        auth: {
          tokens: [
            {
              name: 'operator',
              sha256: hashToken(TOKEN),
              scopes: ['remediate:analyze', 'remediate:execute'],
            },
          ],
        },
      } as never,
    });
    const app = await createApplication(configuration, { cluster: null });
    const { app: http } = await createHttpServer({
      service: app.service,
      configuration,
      authenticator: app.authenticator,
    });
    try {
      await http.listen({ host: '127.0.0.1', port: 0 });
      const { port } = http.server.address() as { port: number };
      const response = await fetch(`http://127.0.0.1:${port}/v1/remediate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...input, mode: 'automatic' }),
      });
      expect(response.status).toBe(200);
      expectRefused(RemediateOutputSchema.parse(await response.json()));
    } finally {
      await http.close();
      await app.close();
    }
  });

  it('in MCP (stdio)', async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: ['--import', 'tsx', 'src/interfaces/cli/main.ts', 'mcp', '--offline', '--policy-file', CAPPED],
      env: {
        ...(process.env as Record<string, string>),
        KUBEMEND_STORAGE: 'memory',
        KUBEMEND_LOG_LEVEL: 'silent',
        KUBEMEND_POLICY_FILE: '',
      },
      stderr: 'pipe',
    });
    const client = new Client({ name: 'policy-limits', version: '1.0.0' });
    await client.connect(transport);
    try {
      const result = await client.callTool({
        name: 'remediate',
        arguments: { ...input, mode: 'automatic' },
      });
      expect(result.isError).toBeFalsy();
      expectRefused(RemediateOutputSchema.parse(result.structuredContent));
      const text = (result.content as Array<{ text: string }>)[0]!.text;
      expect(text).toContain("above the policy's maxReplicas (5)");
    } finally {
      await client.close();
    }
  }, 60_000);

  it('and the same raise is not refused under the default maxReplicas (50)', () => {
    const { code, stdout } = analyze();
    expect(code).toBe(0);
    const output = RemediateOutputSchema.parse(JSON.parse(stdout));
    const raise = output.remediation.actions.find(
      (action) => action.target.kind === 'HorizontalPodAutoscaler',
    );
    expect(raise?.decision?.decision).toBe('await-approval');
  }, 60_000);
});

describe('requireDryRun: false', () => {
  it('is refused at load for a policy that executes unattended, naming the field (exit 2)', () => {
    const unattended = policyFile(
      'no-dry-run.yaml',
      'policies:\n  fast:\n    mode: automatic\n    requireDryRun: false\n',
    );
    const { code, stdout, stderr } = analyze('--policy-file', unattended);
    expect(code).toBe(2);
    expect(stderr).toMatch(/policies\.fast\.requireDryRun: false is allowed only with mode: manual/);
    expect(JSON.parse(stdout).error.code).toBe('configuration-invalid');
  }, 60_000);

  it('is accepted for a policy whose every change a person approves', () => {
    const approved = policyFile(
      'approved-no-dry-run.yaml',
      'policies:\n  careful:\n    mode: manual\n    requireDryRun: false\n',
    );
    const { code, stderr } = analyze('--policy-file', approved);
    expect(code, stderr).toBe(0);
  }, 60_000);
});
