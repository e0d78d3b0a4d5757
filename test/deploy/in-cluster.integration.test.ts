// `kubemend serve` configured the way a pod is — no kubeconfig anywhere, KUBERNETES_SERVICE_HOST
// and _PORT set, the ServiceAccount's token, ca.crt and namespace in a directory — against the
// real control plane:
// - the ServiceAccount and its RBAC come from the Helm chart's templates (one opted-in namespace);
// - its token comes from the TokenRequest API (600 s, bound to a Secret, as projected tokens are
//   bound to their pod);
// - a live analysis reads the opted-in namespace as that ServiceAccount, and is refused in another;
// - rotation: the Secret behind the first token is deleted (the API server now rejects that token)
//   and a new token is written over the file — the same process carries on with it, no restart.
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/auth/authenticator.js';
import {
  createOomKilled,
  kubectl,
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
} from './support.js';

const SA = 'kubemend';
const releaseNamespace = uniqueName('km-incluster');
const optedIn = uniqueName('km-ic-shop');
const other = uniqueName('km-ic-other');
const CLUSTER_ROLE = `${releaseNamespace}-${SA}-cluster-reader`;
const API_TOKEN = 'in-cluster-test-token-0123456789';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

let core: k8s.CoreV1Api;
let server: URL;
let ca: Buffer;
let saDir: string;
let dataDir: string;
let kubemend: ServeProcess;
const tokens: string[] = [];

/** A token for the ServiceAccount from the TokenRequest API, bound to a new Secret `anchor`. */
async function requestToken(anchor: string): Promise<string> {
  const secret = await core.createNamespacedSecret({
    namespace: releaseNamespace,
    body: { metadata: { name: anchor }, stringData: { purpose: 'token binding' } },
  });
  const request = await core.createNamespacedServiceAccountToken({
    name: SA,
    namespace: releaseNamespace,
    body: {
      spec: {
        audiences: [],
        expirationSeconds: 600,
        boundObjectRef: { apiVersion: 'v1', kind: 'Secret', name: anchor, uid: secret.metadata!.uid! },
      },
    },
  });
  const token = request.status?.token;
  if (!token) throw new Error('TokenRequest returned no token');
  return token;
}

/** Writes the token the way the kubelet does: a new file renamed over the old one. */
function installToken(token: string): void {
  writeFileSync(join(saDir, '.token.new'), token);
  renameSync(join(saDir, '.token.new'), join(saDir, 'token'));
}

/** HTTP status of an authenticated request straight to the API server with `token`. */
function statusWith(token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = https.get(
      new URL('/apis/authentication.k8s.io/v1', server),
      { ca, headers: { authorization: `Bearer ${token}` } },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    request.on('error', reject);
  });
}

async function remediate(namespace: string, name: string): Promise<Json> {
  const answer = await call(kubemend.base, '/v1/remediate', {
    token: API_TOKEN,
    body: {
      issue: `${name} keeps restarting`,
      target: { kind: 'Deployment', namespace, name },
      mode: 'manual',
    },
  });
  expect(answer.status, answer.text).toBe(200);
  return answer.body;
}

beforeAll(async () => {
  const admin = await requireCluster();
  core = admin.makeApiClient(k8s.CoreV1Api);
  server = new URL(admin.getCurrentCluster()!.server);
  ca = readFileSync(join(PKI_DIR, 'ca.crt'));
  for (const namespace of [releaseNamespace, optedIn, other]) kubectl(['create', 'namespace', namespace]);

  // The chart's ServiceAccount and RBAC, applied for real.
  applyChartRbac(helmBinary(), SA, releaseNamespace, [optedIn]);

  await Promise.all([createOomKilled('web', optedIn), createOomKilled('web', other)]);

  saDir = mkdtempSync(join(tmpdir(), 'km-serviceaccount-'));
  dataDir = mkdtempSync(join(tmpdir(), 'km-incluster-data-'));
  writeFileSync(join(saDir, 'ca.crt'), ca);
  writeFileSync(join(saDir, 'namespace'), releaseNamespace);
  tokens.push(await requestToken('token-anchor-1'));
  installToken(tokens[0]!);
  await waitFor('the first token to authenticate', async () =>
    (await statusWith(tokens[0]!)) === 200 ? true : undefined,
  );

  const config = join(dataDir, 'kubemend.yaml');
  writeFileSync(
    config,
    `auth:\n  tokens:\n    - { name: oncall, sha256: ${hashToken(API_TOKEN)}, scopes: [remediate:analyze] }\n`,
  );
  // Exactly a pod's view: no KUBECONFIG, a HOME without ~/.kube, the service address, the files.
  kubemend = await startServe({
    cwd: REPO_ROOT,
    entry: bundledCli(), // what the image runs
    args: [],
    env: {
      HOME: dataDir,
      KUBERNETES_SERVICE_HOST: server.hostname,
      KUBERNETES_SERVICE_PORT: server.port,
      KUBEMEND_SERVICE_ACCOUNT_DIR: saDir,
      KUBEMEND_DATA_DIR: dataDir,
      KUBEMEND_CONFIG: config,
      KUBEMEND_LOG_LEVEL: 'info',
    },
  });
}, 600_000);

afterAll(async () => {
  await kubemend?.stop();
  for (const dir of [saDir, dataDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  deleteQuietly([releaseNamespace, optedIn, other], [['clusterrole,clusterrolebinding', CLUSTER_ROLE]]);
});

describe('kubemend serve in-cluster (ServiceAccount files, no kubeconfig)', () => {
  it('connects with the ServiceAccount: no offline notice at start', () => {
    expect(kubemend.output()).not.toMatch(/analysed offline|no usable kubeconfig/);
  });

  it('reads the opted-in namespace live, as the ServiceAccount', async () => {
    const output = await remediate(optedIn, 'web');
    expect(output.analysis.category, JSON.stringify(output.analysis)).toBe('oom-killed');
    expect(JSON.stringify(output.notices)).toMatch(/live: read [1-9]\d* pod\(s\)/);
    expect(output.analysis.evidenceDetail.some((e: Json) => e.origin === 'cluster')).toBe(true);
  });

  it('is refused in a namespace that was not opted in — by name, as that ServiceAccount', async () => {
    const output = await remediate(other, 'web');
    expect(output.analysis.category).not.toBe('oom-killed');
    expect(JSON.stringify(output)).toContain(
      `User \\"system:serviceaccount:${releaseNamespace}:${SA}\\" cannot get resource \\"deployments\\"`,
    );
  });

  it('keeps working across a token rotation, the old token revoked, without a restart', async () => {
    const pid = kubemend.child.pid;
    tokens.push(await requestToken('token-anchor-2'));
    // Revoke the first token: its bound Secret is gone, the API server now answers 401 for it.
    await core.deleteNamespacedSecret({ name: 'token-anchor-1', namespace: releaseNamespace });
    await waitFor('the first token to be rejected', async () =>
      (await statusWith(tokens[0]!)) === 401 ? true : undefined,
    );
    expect(await statusWith(tokens[1]!)).toBe(200);

    // Still the old file: kubemend's reads are now unauthenticated.
    const stale = await remediate(optedIn, 'web');
    expect(stale.analysis.category).not.toBe('oom-killed');
    expect(JSON.stringify(stale)).toMatch(/Unauthorized/i);

    // The kubelet's rotation: the new token replaces the file; the next request uses it.
    installToken(tokens[1]!);
    const rotated = await remediate(optedIn, 'web');
    expect(rotated.analysis.category, JSON.stringify(rotated.analysis)).toBe('oom-killed');
    expect(rotated.analysis.evidenceDetail.some((e: Json) => e.origin === 'cluster')).toBe(true);
    expect(kubemend.child.pid).toBe(pid);
    expect(kubemend.child.exitCode).toBeNull();
  });
});
