/**
 * Two real control planes side by side, one kubemend serving both (`clusters:`): a request for each
 * is served from the right one (its scan sees only its own workloads, its session carries its name);
 * then the second control plane is stopped: its requests fail fast with 503 `cluster-unreachable`,
 * and the first keeps working.
 *
 *   source /work/wt/slot5.env && scripts/cluster/with-cluster.sh \
 *     scripts/cluster/with-second-cluster.sh /work/wt/slot9.env \
 *     npx vitest run --project integration test/cluster/two-clusters.integration.test.ts
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Application, createApplication } from '../../src/app.js';
import { hashToken } from '../../src/auth/authenticator.js';
import { loadConfiguration } from '../../src/config/configuration.js';
import { createHttpServer } from '../../src/interfaces/http/server.js';
import { ADMIN_KUBECONFIG, KUBECTL, REPO_ROOT, requireCluster, waitFor } from './cluster-harness.js';

const SECOND_STATE = process.env.KM_SECOND_STATE;
const SECOND_KUBECONFIG = process.env.KM_SECOND_KUBECONFIG;
const NAMESPACE = 'two-clusters';
const TOKEN = 'two-clusters-operator-token';

function kubectlOn(kubeconfig: string, args: readonly string[], input?: string): string {
  return execFileSync(KUBECTL, ['--kubeconfig', kubeconfig, ...args], {
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: 60_000,
    ...(input === undefined ? {} : { input }),
  });
}

/** A Deployment whose image does not exist: ErrImagePull, then ImagePullBackOff. */
function brokenDeployment(name: string): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NAMESPACE },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'main', image: `registry.invalid/${name}:1.0` }] },
      },
    },
  });
}

async function waitForPullFailure(kubeconfig: string, app: string): Promise<void> {
  await waitFor(`pod of ${app} failing to pull`, async () => {
    const reasons = kubectlOn(kubeconfig, [
      'get',
      'pods',
      '-n',
      NAMESPACE,
      '-l',
      `app=${app}`,
      '-o',
      'jsonpath={.items[*].status.containerStatuses[*].state.waiting.reason}',
    ]);
    return /ErrImagePull|ImagePullBackOff/.test(reasons) ? true : undefined;
  });
}

let application: Application;
let close: () => Promise<void>;
let base: string;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON answer, checked field by field
type Json = any;

async function call(path: string, body: unknown): Promise<{ status: number; body: Json; ms: number }> {
  const started = Date.now();
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json(), ms: Date.now() - started };
}

beforeAll(async () => {
  await requireCluster();
  if (!SECOND_STATE || !SECOND_KUBECONFIG || !existsSync(SECOND_KUBECONFIG))
    throw new Error(
      'No second control plane: run this suite through scripts/cluster/with-second-cluster.sh ENV_FILE (see the header).',
    );
  for (const [kubeconfig, app] of [
    [ADMIN_KUBECONFIG, 'only-alpha'],
    [SECOND_KUBECONFIG, 'only-beta'],
  ] as const) {
    kubectlOn(kubeconfig, ['create', 'namespace', NAMESPACE]);
    kubectlOn(kubeconfig, ['apply', '-f', '-'], brokenDeployment(app));
  }
  await Promise.all([
    waitForPullFailure(ADMIN_KUBECONFIG, 'only-alpha'),
    waitForPullFailure(SECOND_KUBECONFIG, 'only-beta'),
  ]);
  const configuration = loadConfiguration({
    env: {},
    flags: {
      storage: { driver: 'memory' },
      server: { host: '127.0.0.1', port: 0 },
      auth: {
        tokens: [
          { name: 'operator', sha256: hashToken(TOKEN), scopes: ['remediate:analyze', 'remediate:execute'] },
        ],
      },
      clusters: [
        { name: 'alpha', kubeconfig: ADMIN_KUBECONFIG, default: true },
        { name: 'beta', kubeconfig: SECOND_KUBECONFIG },
      ],
    } as never,
  });
  application = await createApplication(configuration);
  const { app: http } = await createHttpServer({
    service: application.service,
    configuration,
    authenticator: application.authenticator,
  });
  await http.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(http.server.address() as { port: number }).port}`;
  close = async () => {
    await http.close();
    await application.close();
  };
});

afterAll(async () => {
  await close?.();
  for (const kubeconfig of [ADMIN_KUBECONFIG])
    try {
      kubectlOn(kubeconfig, ['delete', 'namespace', NAMESPACE, '--wait=false']);
    } catch {
      // best effort
    }
});

describe('two clusters at once', () => {
  it('serves a request for each from the right cluster', async () => {
    for (const [cluster, mine, theirs] of [
      ['alpha', 'only-alpha', 'only-beta'],
      ['beta', 'only-beta', 'only-alpha'],
    ] as const) {
      const scan = await call('/v1/scan', { namespaces: [NAMESPACE], cluster });
      expect(scan.status).toBe(200);
      const names = scan.body.findings.map((finding: { object: { name: string } }) => finding.object.name);
      expect(names, JSON.stringify(scan.body)).toContain(mine);
      expect(names).not.toContain(theirs);
      const remediate = await call('/v1/remediate', {
        issue: `deployment ${mine} does not start`,
        target: { kind: 'Deployment', namespace: NAMESPACE, name: mine },
        cluster,
      });
      expect(remediate.status).toBe(200);
      expect(remediate.body.analysis.category).toMatch(/^image-pull/);
      expect((await application.sessions.get(remediate.body.sessionId))?.cluster).toBe(cluster);
    }
  });

  it('a stopped cluster fails only its own requests, fast, with 503 cluster-unreachable', async () => {
    execFileSync(`${REPO_ROOT}/scripts/cluster/down.sh`, [], {
      env: { ...process.env, KM_STATE: SECOND_STATE },
      stdio: 'ignore',
    });
    for (let attempt = 0; attempt < 4; attempt++) {
      const refused = await call('/v1/remediate', { issue: 'deployment only-beta is down', cluster: 'beta' });
      expect(refused.status).toBe(503);
      expect(refused.body.code).toBe('cluster-unreachable');
      expect(refused.body.detail).toMatch(/cluster "beta"/);
      expect(refused.ms).toBeLessThan(4_000);
    }
    const open = await call('/v1/scan', { namespaces: [NAMESPACE], cluster: 'beta' });
    expect(open.status).toBe(503);
    expect(open.ms).toBeLessThan(500); // the breaker is open: no connection is even tried
    const alpha = await call('/v1/scan', { namespaces: [NAMESPACE], cluster: 'alpha' });
    expect(alpha.status).toBe(200);
    expect(alpha.body.findings.map((f: { object: { name: string } }) => f.object.name)).toContain(
      'only-alpha',
    );
    const remediate = await call('/v1/remediate', {
      issue: 'deployment only-alpha does not start',
      target: { kind: 'Deployment', namespace: NAMESPACE, name: 'only-alpha' },
    });
    expect(remediate.status).toBe(200);
    expect((await application.sessions.get(remediate.body.sessionId))?.cluster).toBe('alpha');
  });
});
