/**
 * A real Alertmanager (v0.35, built from the Go module proxy by scripts/tools/alertmanager.sh) as
 * a child process on loopback, without clustering, with one webhook receiver pointing at kubemend
 * (bearer token through `http_config.authorization`, resolved alerts sent too).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, waitFor } from '../cluster/cluster-harness.js';

export interface Alertmanager {
  readonly base: string;
  readonly child: ChildProcess;
  output(): string;
  /** POST /api/v2/alerts. */
  post(alerts: readonly unknown[]): Promise<void>;
  stop(): Promise<void>;
}

export function alertmanagerBinary(): string {
  return execFileSync('bash', [join(REPO_ROOT, 'scripts', 'tools', 'alertmanager.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 1_800_000,
  }).trim();
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startAlertmanager(options: {
  readonly webhookUrl: string;
  readonly token: string;
  readonly groupWait?: string;
  readonly groupInterval?: string;
}): Promise<Alertmanager> {
  const dir = mkdtempSync(join(tmpdir(), 'km-alertmanager-'));
  const config = join(dir, 'alertmanager.yml');
  writeFileSync(
    config,
    [
      'route:',
      '  receiver: kubemend',
      "  group_by: ['alertname', 'namespace']",
      `  group_wait: ${options.groupWait ?? '1s'}`,
      `  group_interval: ${options.groupInterval ?? '2s'}`,
      '  repeat_interval: 1h',
      'receivers:',
      '  - name: kubemend',
      '    webhook_configs:',
      `      - url: ${JSON.stringify(options.webhookUrl)}`,
      '        send_resolved: true',
      '        http_config:',
      '          authorization:',
      '            type: Bearer',
      `            credentials: ${JSON.stringify(options.token)}`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(
    alertmanagerBinary(),
    [
      `--config.file=${config}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=debug',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await waitFor(
    'Alertmanager to be ready',
    async () => ((await fetch(`${base}/-/ready`)).ok ? true : undefined),
    30_000,
    200,
  );
  return {
    base,
    child,
    output: () => output,
    async post(alerts) {
      const response = await fetch(`${base}/api/v2/alerts`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alerts),
      });
      if (!response.ok) throw new Error(`Alertmanager answered ${response.status}: ${await response.text()}`);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
