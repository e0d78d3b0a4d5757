/**
 * The proof of the Alertmanager receiver and the notifications, end to end, on the real control
 * plane: a broken workload (an OOM-killed Deployment), an alert posted to a real Alertmanager,
 * which groups it and delivers it to kubemend — started as it runs in a pod (ServiceAccount token
 * from the TokenRequest API, KUBERNETES_SERVICE_HOST/PORT, no kubeconfig) — which fixes the
 * workload in automatic mode (routed by the alert's labels) and tells a loopback webhook sink
 * "verified", signed with HMAC-SHA256. The alert then resolves: recorded as resolved after the fix.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/auth/authenticator.js';
import { signature } from '../../src/notifications/sinks.js';
import {
  createOomKilled,
  kubectl,
  memoryLimitOf,
  PKI_DIR,
  REPO_ROOT,
  requireCluster,
  uniqueName,
  waitFor,
} from '../cluster/cluster-harness.js';
import {
  applyChartRbac,
  bundledCli,
  call,
  deleteQuietly,
  helmBinary,
  startServe,
  type ServeProcess,
} from '../deploy/support.js';
import { type Alertmanager, startAlertmanager } from './alertmanager.js';

const SA = 'kubemend';
const releaseNamespace = uniqueName('km-am');
const shop = uniqueName('km-am-shop');
const CLUSTER_ROLE = `${releaseNamespace}-${SA}-cluster-reader`;
const API_TOKEN = 'alertmanager-test-token-0123456789';
const SECRET = 'webhook-signing-key-0123456789';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface Hook {
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

let dir: string;
let kubemend: ServeProcess;
let alertmanager: Alertmanager;
let sink: Server;
const hooks: Hook[] = [];
let pod: string;

beforeAll(async () => {
  const admin = await requireCluster();
  const core = admin.makeApiClient(k8s.CoreV1Api);
  const server = new URL(admin.getCurrentCluster()!.server);
  for (const namespace of [releaseNamespace, shop]) kubectl(['create', 'namespace', namespace]);
  applyChartRbac(helmBinary(), SA, releaseNamespace, [shop]);
  await createOomKilled('web', shop);
  pod = kubectl(['get', 'pods', '-n', shop, '-l', 'app=web', '-o', 'jsonpath={.items[0].metadata.name}']);

  // The pod's view: the ServiceAccount's token (TokenRequest), ca.crt and namespace in a directory.
  dir = mkdtempSync(join(tmpdir(), 'km-am-e2e-'));
  const saDir = join(dir, 'serviceaccount');
  kubectl(['create', 'secret', 'generic', 'anchor', '-n', releaseNamespace]);
  const anchor = await core.readNamespacedSecret({ name: 'anchor', namespace: releaseNamespace });
  const token = await core.createNamespacedServiceAccountToken({
    name: SA,
    namespace: releaseNamespace,
    body: {
      spec: {
        audiences: [],
        expirationSeconds: 600,
        boundObjectRef: { apiVersion: 'v1', kind: 'Secret', name: 'anchor', uid: anchor.metadata!.uid! },
      },
    },
  });
  mkdirSync(saDir, { recursive: true });
  writeFileSync(join(saDir, 'token'), token.status!.token!);
  writeFileSync(join(saDir, 'ca.crt'), readFileSync(join(PKI_DIR, 'ca.crt')));
  writeFileSync(join(saDir, 'namespace'), releaseNamespace);

  // The webhook sink: a loopback receiver.
  sink = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      hooks.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const sinkUrl = `http://127.0.0.1:${(sink.address() as { port: number }).port}/kubemend`;
  writeFileSync(join(dir, 'webhook-secret'), SECRET);

  const config = join(dir, 'kubemend.yaml');
  writeFileSync(
    config,
    JSON.stringify({
      auth: {
        tokens: [
          {
            name: 'alertmanager',
            sha256: hashToken(API_TOKEN),
            scopes: ['remediate:analyze', 'remediate:execute'],
          },
        ],
      },
      alerts: {
        routes: [
          { match: { namespace: shop }, matchRe: { severity: 'warning|critical' }, mode: 'automatic' },
        ],
        default: { mode: 'manual' },
      },
      notifications: {
        sinks: [{ type: 'webhook', name: 'oncall', url: sinkUrl, secretFile: join(dir, 'webhook-secret') }],
        pollInterval: '200ms',
        initialBackoff: '200ms',
      },
    }),
  );
  kubemend = await startServe({
    cwd: REPO_ROOT,
    entry: bundledCli(), // what the image runs
    env: {
      HOME: dir,
      KUBERNETES_SERVICE_HOST: server.hostname,
      KUBERNETES_SERVICE_PORT: server.port,
      KUBEMEND_SERVICE_ACCOUNT_DIR: saDir,
      KUBEMEND_DATA_DIR: join(dir, 'data'),
      KUBEMEND_CONFIG: config,
      KUBEMEND_LOG_LEVEL: 'info',
    },
  });
  alertmanager = await startAlertmanager({
    webhookUrl: `${kubemend.base}/v1/alerts/alertmanager`,
    token: API_TOKEN,
  });
}, 600_000);

afterAll(async () => {
  await alertmanager?.stop();
  await kubemend?.stop();
  await new Promise((resolve) => (sink ? sink.close(resolve) : resolve(undefined)));
  if (dir) rmSync(dir, { recursive: true, force: true });
  deleteQuietly([releaseNamespace, shop], [['clusterrole,clusterrolebinding', CLUSTER_ROLE]]);
});

describe('an alert through a real Alertmanager fixes the workload', () => {
  it('fixes the OOM-killed Deployment from the alert alone and notifies "verified", signed', async () => {
    const started = Date.now();
    const startsAt = new Date().toISOString();
    const alert = {
      labels: {
        alertname: 'KubePodCrashLooping',
        namespace: shop,
        pod,
        container: 'api',
        severity: 'warning',
      },
      annotations: {
        summary: 'Pod is crash looping.',
        description: `Pod ${shop}/${pod} (api) is in waiting state (reason: "CrashLoopBackOff").`,
      },
      startsAt,
    };
    await alertmanager.post([alert]);

    const verified = await waitFor(
      'the webhook sink to receive "verified"',
      async () => hooks.find((hook) => JSON.parse(hook.body).event === 'verified'),
      150_000,
      250,
    );
    const elapsed = Date.now() - started;
    const document = JSON.parse(verified.body) as Json;
    const timestamp = String(verified.headers['x-kubemend-timestamp']);
    expect(verified.headers['x-kubemend-signature']).toBe(signature(SECRET, timestamp, verified.body));
    expect(Math.abs(Date.now() / 1000 - Number(timestamp))).toBeLessThan(300);
    expect(document).toMatchObject({
      schema: 'kubemend.notification/v1',
      event: 'verified',
      session: { state: 'verified', mode: 'automatic' },
      analysis: { category: 'oom-killed' },
    });
    expect(document.results.map((r: Json) => r.status)).toContain('verified');
    expect(memoryLimitOf(shop, 'web')).not.toBe('128Mi');
    expect(hooks.map((hook) => JSON.parse(hook.body).event)).toContain('executing');

    // One session for the incident, opened by Alertmanager's delivery.
    const incident = await call(kubemend.base, `/v1/alerts/sessions/${document.session.id}`, {
      token: API_TOKEN,
    });
    expect(incident.status).toBe(200);
    expect(incident.body).toMatchObject({ alertname: 'KubePodCrashLooping', sessionId: document.session.id });
    process.stdout.write(`alert → verified notification: ${elapsed} ms\n`);

    // The alert resolves: Alertmanager sends it resolved; kubemend records it after the fix.
    await alertmanager.post([{ ...alert, endsAt: new Date().toISOString() }]);
    const resolved = await waitFor(
      'the resolution to be recorded',
      async () => {
        const view = await call(kubemend.base, `/v1/alerts/sessions/${document.session.id}`, {
          token: API_TOKEN,
        });
        return (view.body as Json).resolution ? (view.body as Json) : undefined;
      },
      60_000,
      250,
    );
    expect(resolved.resolution).toBe('after-fix');
    expect(resolved.notifications).toBeGreaterThanOrEqual(1);
    expect(kubemend.output()).not.toMatch(/notification given up/);
  });
});
