// What kubemend's least-privilege identity (deploy/rbac/kubemend-rbac.yaml) can and cannot do,
// shown with the real RBAC authorizer: real requests (403s) and SelfSubjectAccessReviews.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as k8s from '@kubernetes/client-node';
import {
  KUBEMEND_KUBECONFIG,
  kubectl,
  loadKubeconfig,
  mergePatch,
  requireCluster,
  runClusterScript,
  statusOf,
  uniqueName,
  waitFor,
} from './cluster-harness.js';

const SIM_NAMESPACE = 'kubemend-sim';
const KUBEMEND_USER = 'system:serviceaccount:kubemend-system:kubemend';
const optedIn = uniqueName('rbac-optin');
const notOptedIn = uniqueName('rbac-other');
let createdSimNamespace = false;

let admin: { core: k8s.CoreV1Api; apps: k8s.AppsV1Api };
let km: {
  config: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  rbac: k8s.RbacAuthorizationV1Api;
  authz: k8s.AuthorizationV1Api;
  authn: k8s.AuthenticationV1Api;
};

function deployment(name: string): k8s.V1Deployment {
  return {
    metadata: { name },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }] },
      },
    },
  };
}

/** HTTP status of opening a real watch (200 when the stream opened; closed right away). */
async function watchStatus(config: k8s.KubeConfig, path: string): Promise<number> {
  let failed: number | undefined;
  const controller = await new k8s.Watch(config).watch(
    path,
    {},
    () => undefined,
    (error: unknown) => {
      if (error && failed === undefined) failed = (error as { statusCode?: number }).statusCode ?? -1;
    },
  );
  const status = failed ?? 200;
  controller.abort();
  return status;
}

async function ensureNamespace(core: k8s.CoreV1Api, name: string): Promise<boolean> {
  const status = await statusOf(core.createNamespace({ body: { metadata: { name } } }));
  if (status !== 200 && status !== 409) throw new Error(`creating namespace ${name}: HTTP ${status}`);
  return status === 200;
}

beforeAll(async () => {
  const adminConfig = await requireCluster();
  admin = { core: adminConfig.makeApiClient(k8s.CoreV1Api), apps: adminConfig.makeApiClient(k8s.AppsV1Api) };

  await ensureNamespace(admin.core, optedIn);
  await ensureNamespace(admin.core, notOptedIn);
  createdSimNamespace = await ensureNamespace(admin.core, SIM_NAMESPACE);
  for (const namespace of [optedIn, notOptedIn]) {
    await admin.apps.createNamespacedDeployment({ namespace, body: deployment('web') });
    await admin.core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'db-password' }, stringData: { password: 'hunter2' } },
    });
  }
  const worldStatus = await statusOf(
    admin.core.createNamespacedConfigMap({
      namespace: SIM_NAMESPACE,
      body: { metadata: { name: 'rbac-test-world' }, data: { 'world.yaml': 'nodes: []\n' } },
    }),
  );
  expect([200, 409]).toContain(worldStatus);

  // The script under test: applies the RBAC, opts in one namespace, mints a token.
  runClusterScript('kubemend-identity.sh', [optedIn]);
  const kc = loadKubeconfig(KUBEMEND_KUBECONFIG);
  km = {
    config: kc,
    core: kc.makeApiClient(k8s.CoreV1Api),
    apps: kc.makeApiClient(k8s.AppsV1Api),
    rbac: kc.makeApiClient(k8s.RbacAuthorizationV1Api),
    authz: kc.makeApiClient(k8s.AuthorizationV1Api),
    authn: kc.makeApiClient(k8s.AuthenticationV1Api),
  };
  // RBAC changes reach the authorizer's informer cache within a moment.
  await waitFor('the RoleBinding to take effect', async () =>
    (await statusOf(km.core.listNamespacedPod({ namespace: optedIn }))) === 200 ? true : undefined,
  );
});

afterAll(async () => {
  if (!admin) return;
  const names = [optedIn, notOptedIn, ...(createdSimNamespace ? [SIM_NAMESPACE] : [])];
  for (const name of names) await statusOf(admin.core.deleteNamespace({ name }));
  if (!createdSimNamespace) {
    await statusOf(
      admin.core.deleteNamespacedConfigMap({ name: 'rbac-test-world', namespace: SIM_NAMESPACE }),
    );
  }
});

describe('kubemend identity', () => {
  it('authenticates as the kubemend ServiceAccount (token from the TokenRequest API)', async () => {
    const review = await km.authn.createSelfSubjectReview({ body: {} });
    expect(review.status?.userInfo?.username).toBe(KUBEMEND_USER);
  });

  it('refuses to opt in the simulator namespace', () => {
    expect(() => runClusterScript('kubemend-identity.sh', [SIM_NAMESPACE])).toThrow(
      /refusing to bind kubemend/,
    );
    expect(() => kubectl(['-n', SIM_NAMESPACE, 'get', 'rolebinding', 'kubemend'])).toThrow(/NotFound/);
  });
});

describe('allowed: reads and the remediation writes in an opted-in namespace', () => {
  it('lists pods, deployments, events and replicasets', async () => {
    expect(await statusOf(km.core.listNamespacedPod({ namespace: optedIn }))).toBe(200);
    expect(await statusOf(km.apps.listNamespacedDeployment({ namespace: optedIn }))).toBe(200);
    expect(await statusOf(km.core.listNamespacedEvent({ namespace: optedIn }))).toBe(200);
    expect(await statusOf(km.apps.listNamespacedReplicaSet({ namespace: optedIn }))).toBe(200);
  });

  it('patches a Deployment', async () => {
    const patched = await km.apps.patchNamespacedDeployment(
      {
        name: 'web',
        namespace: optedIn,
        body: { metadata: { annotations: { 'kubemend.io/rbac-test': 'patched' } } },
      },
      mergePatch,
    );
    expect(patched.metadata?.annotations?.['kubemend.io/rbac-test']).toBe('patched');
  });

  it('reads cluster-scoped nodes and namespaces through the ClusterRoleBinding', async () => {
    expect(await statusOf(km.core.listNode())).toBe(200);
    expect(await statusOf(km.core.listNamespace())).toBe(200);
  });
});

describe('denied (HTTP 403 from the real authorizer)', () => {
  it('cannot get, list or watch Secrets, even in an opted-in namespace', async () => {
    expect(await statusOf(km.core.readNamespacedSecret({ name: 'db-password', namespace: optedIn }))).toBe(
      403,
    );
    expect(await statusOf(km.core.listNamespacedSecret({ namespace: optedIn }))).toBe(403);
    expect(await statusOf(km.core.listSecretForAllNamespaces())).toBe(403);
    expect(await watchStatus(km.config, `/api/v1/namespaces/${optedIn}/secrets`)).toBe(403);
    // control: the same watch on pods is allowed
    expect(await watchStatus(km.config, `/api/v1/namespaces/${optedIn}/pods`)).toBe(200);
  });

  it('cannot read anything in the simulator namespace', async () => {
    expect(
      await statusOf(km.core.readNamespacedConfigMap({ name: 'rbac-test-world', namespace: SIM_NAMESPACE })),
    ).toBe(403);
    expect(await statusOf(km.core.listNamespacedConfigMap({ namespace: SIM_NAMESPACE }))).toBe(403);
    expect(await statusOf(km.core.listNamespacedPod({ namespace: SIM_NAMESPACE }))).toBe(403);
    expect(await statusOf(km.core.listNamespacedEvent({ namespace: SIM_NAMESPACE }))).toBe(403);
  });

  it('cannot create a ClusterRoleBinding or a RoleBinding', async () => {
    const subjects = [{ kind: 'ServiceAccount', name: 'kubemend', namespace: 'kubemend-system' }];
    expect(
      await statusOf(
        km.rbac.createClusterRoleBinding({
          body: {
            metadata: { name: uniqueName('escalate') },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
            subjects,
          },
        }),
      ),
    ).toBe(403);
    expect(
      await statusOf(
        km.rbac.createNamespacedRoleBinding({
          namespace: optedIn,
          body: {
            metadata: { name: 'escalate' },
            roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' },
            subjects,
          },
        }),
      ),
    ).toBe(403);
  });

  it('cannot touch a namespace that was not opted in', async () => {
    expect(await statusOf(km.core.listNamespacedPod({ namespace: notOptedIn }))).toBe(403);
    expect(await statusOf(km.apps.readNamespacedDeployment({ name: 'web', namespace: notOptedIn }))).toBe(
      403,
    );
    expect(
      await statusOf(
        km.apps.patchNamespacedDeployment(
          { name: 'web', namespace: notOptedIn, body: { metadata: { annotations: { x: 'y' } } } },
          mergePatch,
        ),
      ),
    ).toBe(403);
    expect(await statusOf(km.core.listPodForAllNamespaces())).toBe(403);
  });

  it('cannot delete a Deployment (and it is still there)', async () => {
    expect(await statusOf(km.apps.deleteNamespacedDeployment({ name: 'web', namespace: optedIn }))).toBe(403);
    expect(await statusOf(admin.apps.readNamespacedDeployment({ name: 'web', namespace: optedIn }))).toBe(
      200,
    );
  });
});

describe('SelfSubjectAccessReview agrees with the requests', () => {
  type Case = readonly [label: string, attributes: k8s.V1ResourceAttributes, allowed: boolean];
  const table: readonly Case[] = [
    ['list pods (opted in)', { verb: 'list', resource: 'pods', namespace: optedIn }, true],
    [
      'get pods/log (opted in)',
      { verb: 'get', resource: 'pods', subresource: 'log', namespace: optedIn },
      true,
    ],
    ['delete pods (opted in)', { verb: 'delete', resource: 'pods', namespace: optedIn }, true],
    [
      'patch deployments',
      { verb: 'patch', group: 'apps', resource: 'deployments', namespace: optedIn },
      true,
    ],
    [
      'update deployments/scale',
      { verb: 'update', group: 'apps', resource: 'deployments', subresource: 'scale', namespace: optedIn },
      true,
    ],
    ['create configmaps', { verb: 'create', resource: 'configmaps', namespace: optedIn }, true],
    [
      'watch events.k8s.io events',
      { verb: 'watch', group: 'events.k8s.io', resource: 'events', namespace: optedIn },
      true,
    ],
    ['patch nodes (cordon)', { verb: 'patch', resource: 'nodes' }, true],
    ['list storageclasses', { verb: 'list', group: 'storage.k8s.io', resource: 'storageclasses' }, true],
    ['get secrets (opted in)', { verb: 'get', resource: 'secrets', namespace: optedIn }, false],
    ['list secrets (opted in)', { verb: 'list', resource: 'secrets', namespace: optedIn }, false],
    ['watch secrets (opted in)', { verb: 'watch', resource: 'secrets', namespace: optedIn }, false],
    ['list secrets (cluster-wide)', { verb: 'list', resource: 'secrets' }, false],
    [
      'get configmaps in kubemend-sim',
      { verb: 'get', resource: 'configmaps', namespace: SIM_NAMESPACE },
      false,
    ],
    ['list pods in kubemend-sim', { verb: 'list', resource: 'pods', namespace: SIM_NAMESPACE }, false],
    ['list pods (not opted in)', { verb: 'list', resource: 'pods', namespace: notOptedIn }, false],
    [
      'delete deployments',
      { verb: 'delete', group: 'apps', resource: 'deployments', namespace: optedIn },
      false,
    ],
    [
      'create deployments',
      { verb: 'create', group: 'apps', resource: 'deployments', namespace: optedIn },
      false,
    ],
    ['delete nodes', { verb: 'delete', resource: 'nodes' }, false],
    [
      'create clusterrolebindings',
      { verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings' },
      false,
    ],
    [
      'create rolebindings (opted in)',
      { verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'rolebindings', namespace: optedIn },
      false,
    ],
    [
      'create pods/exec',
      { verb: 'create', resource: 'pods', subresource: 'exec', namespace: optedIn },
      false,
    ],
    [
      'create pods/eviction',
      { verb: 'create', resource: 'pods', subresource: 'eviction', namespace: optedIn },
      false,
    ],
  ];

  const cases = table.map(([label, attributes, allowed]) => ({ label, attributes, allowed }));

  it.each(cases)('$label → allowed=$allowed', async ({ attributes, allowed }) => {
    const resourceAttributes = attributes;
    const review = await km.authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes } } });
    expect(review.status?.allowed ?? false).toBe(allowed);
  });
});
