// In-cluster connection without a cluster: the ServiceAccount token file is re-read when it
// changes, the KubeConfig points at KUBERNETES_SERVICE_HOST/PORT with the mounted CA, and the
// version probe leaves no timer behind. The real API server is in test/deploy/in-cluster.integration.test.ts.
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectCluster, mayHaveCluster } from '../../src/cluster/connect.js';
import { inClusterKubeConfig, RotatingTokenFile } from '../../src/cluster/in-cluster.js';
import { loadConfiguration } from '../../src/config/configuration.js';

const dirs: string[] = [];
function serviceAccountDir(token = 'token-one'): string {
  const dir = mkdtempSync(join(tmpdir(), 'km-sa-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'token'), `${token}\n`);
  writeFileSync(join(dir, 'ca.crt'), 'not a real CA\n');
  writeFileSync(join(dir, 'namespace'), 'kubemend-system');
  return dir;
}

/** Replaces the token the way the kubelet does: a new file renamed over the old one. */
function rotate(dir: string, token: string): void {
  writeFileSync(join(dir, 'token.new'), token);
  renameSync(join(dir, 'token.new'), join(dir, 'token'));
}

function kubeconfigFor(server: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    `clusters: [{ name: c, cluster: { server: "${server}", insecure-skip-tls-verify: true } }]`,
    'users: [{ name: u, user: { token: t } }]',
    'contexts: [{ name: x, context: { cluster: c, user: u } }]',
    'current-context: x',
  ].join('\n');
}

/**
 * An API server that accepts connections and never answers a byte (it reads and drops what arrives,
 * so it sees a client close), with a kubeconfig pointing at it.
 */
async function silentServer(): Promise<{
  kubeconfig: string;
  open: Set<Socket>;
  close: () => Promise<void>;
}> {
  const open = new Set<Socket>();
  const silent = createNetServer((socket) => {
    socket.resume();
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const dir = mkdtempSync(join(tmpdir(), 'km-kc-'));
  dirs.push(dir);
  const kubeconfig = join(dir, 'config');
  writeFileSync(kubeconfig, kubeconfigFor(`http://127.0.0.1:${(silent.address() as AddressInfo).port}`));
  return {
    kubeconfig,
    open,
    close: async () => {
      for (const socket of open) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    },
  };
}

async function authorization(kubeConfig: ReturnType<typeof inClusterKubeConfig>): Promise<unknown> {
  const options: { headers?: Record<string, unknown> } = {};
  await kubeConfig.applyToHTTPSOptions(options as never);
  return options.headers?.Authorization;
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('in-cluster KubeConfig', () => {
  it('points at KUBERNETES_SERVICE_HOST/PORT over TLS with the mounted CA and namespace', () => {
    const dir = serviceAccountDir();
    const kc = inClusterKubeConfig({ host: '10.96.0.1', port: 443, serviceAccountDir: dir });
    expect(kc.getCurrentCluster()).toMatchObject({
      server: 'https://10.96.0.1:443',
      caFile: join(dir, 'ca.crt'),
    });
    expect(kc.getContextObject(kc.getCurrentContext())?.namespace).toBe('kubemend-system');
    const v6 = inClusterKubeConfig({ host: 'fd00::1', port: 6443, serviceAccountDir: dir });
    expect(v6.getCurrentCluster()?.server).toBe('https://[fd00::1]:6443');
  });

  it('names the missing file and the setting that moves it', () => {
    const dir = serviceAccountDir();
    unlinkSync(join(dir, 'ca.crt'));
    expect(() => inClusterKubeConfig({ host: 'h', port: 1, serviceAccountDir: dir })).toThrow(
      /ca\.crt does not exist \(cluster\.serviceAccountDir \/ KUBEMEND_SERVICE_ACCOUNT_DIR\)/,
    );
  });

  it('sends the current token and re-reads it as soon as the file is replaced', async () => {
    const dir = serviceAccountDir('token-one');
    const kc = inClusterKubeConfig({ host: '127.0.0.1', port: 1, serviceAccountDir: dir });
    expect(await authorization(kc)).toBe('Bearer token-one');
    rotate(dir, 'token-two');
    expect(await authorization(kc)).toBe('Bearer token-two');
    // Rewritten in place (same inode), a different length: also seen at once.
    writeFileSync(join(dir, 'token'), 'token-three-longer');
    expect(await authorization(kc)).toBe('Bearer token-three-longer');
  });

  it('keeps the last token read when the file is briefly missing or empty, fails when it never had one', async () => {
    const dir = serviceAccountDir('token-one');
    const auth = new RotatingTokenFile();
    const path = join(dir, 'token');
    expect(await auth.token(path)).toBe('token-one');
    unlinkSync(path);
    expect(await auth.token(path)).toBe('token-one');
    writeFileSync(path, '');
    expect(await auth.token(path)).toBe('token-one');
    rotate(dir, 'token-two');
    expect(await auth.token(path)).toBe('token-two');
    await expect(new RotatingTokenFile().token(join(dir, 'absent'))).rejects.toThrow(
      /cannot read the ServiceAccount token/,
    );
  });
});

describe('connectCluster', () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    server = createServer((request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(request.url === '/version' ? '{"gitVersion":"v1.36.3"}' : '{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('leaves no timer running once the version probe answered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'km-kc-'));
    dirs.push(dir);
    const kubeconfig = join(dir, 'config');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{ name: c, cluster: { server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true } }]`,
        'users: [{ name: u, user: { token: t } }]',
        'contexts: [{ name: x, context: { cluster: c, user: u } }]',
        'current-context: x',
      ].join('\n'),
    );
    // The probe's 60 s timer must be cleared once /version answered.
    const setSpy = vi.spyOn(globalThis, 'setTimeout');
    const clearSpy = vi.spyOn(globalThis, 'clearTimeout');
    const connection = await connectCluster(
      loadConfiguration({ env: {}, flags: { cluster: { kubeconfig } } }),
      {
        probeTimeoutMs: 60_000,
      },
    );
    expect(connection.gateway).toBeDefined();
    expect(connection.notice).toBeUndefined();
    const probeTimers = setSpy.mock.results
      .filter((_, index) => setSpy.mock.calls[index]?.[1] === 60_000)
      .map((result) => result.value as unknown);
    expect(probeTimers).toHaveLength(1);
    expect(clearSpy.mock.calls.map(([handle]) => handle as unknown)).toContain(probeTimers[0]);
  });

  it('aborts the version probe when the timer wins: nothing is left talking to a server that never answers (issue 14 item 9)', async () => {
    const { kubeconfig, open: sockets, close } = await silentServer();
    try {
      const started = performance.now();
      const connection = await connectCluster(
        loadConfiguration({ env: {}, flags: { cluster: { kubeconfig } } }),
        { probeTimeoutMs: 300 },
      );
      expect(performance.now() - started).toBeLessThan(5_000); // not 5 s × 3 attempts
      expect(connection.gateway).toBeUndefined();
      expect(connection.notice).toMatch(/unreachable/);
      // The probe's request was aborted, not left to its own 5 s timeout and retries.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(sockets.size).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(sockets.size).toBe(0);
    } finally {
      await close();
    }
  });

  it('a CLI run against a server that never answers exits as soon as it has answered (issue 14 item 9)', async () => {
    const { kubeconfig, close } = await silentServer();
    try {
      // Exit time minus the moment the answer was printed: how long the process lingered.
      const result = await new Promise<{ code: number | null; stderr: string; lingeredMs: number }>(
        (resolve) => {
          const child = spawn(
            process.execPath,
            [
              '--import',
              'tsx',
              'src/interfaces/cli/main.ts',
              'analyze',
              '--input',
              'examples/oom-killed.json',
              '--kubeconfig',
              kubeconfig,
              '--json',
            ],
            { env: { ...process.env, KUBEMEND_POLICY_FILE: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
          );
          let stderr = '';
          let printedAt = Number.NaN;
          child.stdout.on('data', () => (printedAt = performance.now()));
          child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
          child.on('exit', (code) => resolve({ code, stderr, lingeredMs: performance.now() - printedAt }));
        },
      );
      expect(result.code, result.stderr).toBe(0);
      // Before: the probe's own request (5 s timeout, 3 attempts) held the process ~20 s after.
      expect(result.lingeredMs).toBeLessThan(3_000);
    } finally {
      await close();
    }
  }, 60_000);

  it('with no kubeconfig found, uses the ServiceAccount at KUBERNETES_SERVICE_HOST/PORT', async () => {
    const dir = serviceAccountDir();
    const home = mkdtempSync(join(tmpdir(), 'km-home-'));
    dirs.push(home);
    vi.stubEnv('KUBECONFIG', '');
    vi.stubEnv('HOME', home);
    // A port nothing listens on: the notice names the in-cluster server, proving it was chosen.
    const configuration = loadConfiguration({
      env: {
        KUBERNETES_SERVICE_HOST: '127.0.0.1',
        KUBERNETES_SERVICE_PORT: '1',
        KUBEMEND_SERVICE_ACCOUNT_DIR: dir,
      },
    });
    expect(configuration.cluster).toMatchObject({
      serviceHost: '127.0.0.1',
      servicePort: 1,
      serviceAccountDir: dir,
    });
    const connection = await connectCluster(configuration, { probeTimeoutMs: 10_000 });
    expect(connection.gateway).toBeUndefined();
    expect(connection.notice).toMatch(/^cluster https:\/\/127\.0\.0\.1:1\/ is unreachable/);
  });

  it('with no kubeconfig and no KUBERNETES_SERVICE_HOST, stays offline without a notice', async () => {
    const home = mkdtempSync(join(tmpdir(), 'km-home-'));
    dirs.push(home);
    vi.stubEnv('KUBECONFIG', '');
    vi.stubEnv('HOME', home);
    expect(await connectCluster(loadConfiguration({ env: {} }))).toEqual({});
  });

  it('does not load the client library when no cluster could be configured anywhere', () => {
    const home = mkdtempSync(join(tmpdir(), 'km-home-'));
    dirs.push(home);
    const cluster = loadConfiguration({ env: {} }).cluster;
    expect(mayHaveCluster(cluster, home)).toBe(false);
    const fromVariable = loadConfiguration({ env: { KUBECONFIG: '/elsewhere/config' } }).cluster;
    expect(mayHaveCluster(fromVariable, home)).toBe(true);
    expect(mayHaveCluster({ ...cluster, kubeconfig: '/x/config' }, home)).toBe(true);
    expect(mayHaveCluster({ ...cluster, serviceHost: '10.0.0.1', servicePort: 443 }, home)).toBe(true);
    const kube = join(home, '.kube');
    mkdirSync(kube);
    writeFileSync(join(kube, 'config'), 'apiVersion: v1\n');
    expect(mayHaveCluster(cluster, home)).toBe(true);
  });

  it('refuses a KUBERNETES_SERVICE_PORT that is not a port, naming the variable', () => {
    expect(() => loadConfiguration({ env: { KUBERNETES_SERVICE_PORT: 'https' } })).toThrow(
      /cluster\.servicePort \(flag or KUBERNETES_SERVICE_PORT\)/,
    );
  });
});
