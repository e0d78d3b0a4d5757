// The control plane behaves like a real one: KCM controllers, the scheduler, optimistic
// concurrency and server-side dry-run. Uses client-node (admin) and the built kubectl.
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as k8s from '@kubernetes/client-node';
import {
  kubectl,
  kubectlAsync,
  mergePatch,
  PKI_DIR,
  requireCluster,
  statusOf,
  uniqueName,
  waitFor,
} from './cluster-harness.js';

const namespace = uniqueName('cp-it');
const nodeName = uniqueName('cp-it-node');
// Pods of this suite select this label, so Nodes registered by other suites never take them.
const NODE_LABEL = 'kubemend.io/cp-it-node';
const PAUSE_IMAGE = 'registry.k8s.io/pause:3.10';

let core: k8s.CoreV1Api;
let apps: k8s.AppsV1Api;
let coordination: k8s.CoordinationV1Api;
let leaseTimer: NodeJS.Timeout | undefined;
// A stand-in for a simulated kubelet's HTTPS API: serves container logs with the
// kubelet-serving certificate and requires the apiserver's kubelet-client certificate.
let kubelet: Server | undefined;
let kubeletPort = 0;
const kubeletRequests: Array<{ path: string; clientCommonName: string }> = [];

interface CoreEvent {
  reason?: string;
  message?: string;
  type?: string;
  reportingComponent?: string;
  source?: { component?: string };
  involvedObject: { kind?: string; name?: string };
}

beforeAll(async () => {
  const kc = await requireCluster();
  core = kc.makeApiClient(k8s.CoreV1Api);
  apps = kc.makeApiClient(k8s.AppsV1Api);
  coordination = kc.makeApiClient(k8s.CoordinationV1Api);
  kubectl(['create', 'namespace', namespace]);
  kubelet = createServer(
    {
      cert: readFileSync(join(PKI_DIR, 'kubelet-serving.crt')),
      key: readFileSync(join(PKI_DIR, 'kubelet-serving.key')),
      ca: readFileSync(join(PKI_DIR, 'ca.crt')),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (request, response) => {
      const peer = (request.socket as TLSSocket).getPeerCertificate();
      kubeletRequests.push({ path: request.url ?? '', clientCommonName: String(peer.subject?.CN ?? '') });
      response.writeHead(200, { 'Content-Type': 'text/plain' });
      response.end('hello from the simulated kubelet\n');
    },
  );
  await new Promise<void>((resolve) => kubelet?.listen(0, '127.0.0.1', resolve));
  kubeletPort = (kubelet.address() as AddressInfo).port;
  // The ServiceAccount admission plugin rejects pods until KCM has created the default SA.
  await waitFor(`ServiceAccount ${namespace}/default`, async () =>
    (await statusOf(core.readNamespacedServiceAccount({ name: 'default', namespace }))) === 200
      ? true
      : undefined,
  );
});

afterAll(async () => {
  if (leaseTimer) clearInterval(leaseTimer);
  kubelet?.close();
  if (!core) return;
  // No kubelet will confirm the deletion of pods bound to the fake node: delete them at once.
  await statusOf(apps.deleteNamespacedDeployment({ name: 'web', namespace }));
  await statusOf(core.deleteCollectionNamespacedPod({ namespace, gracePeriodSeconds: 0 }));
  await statusOf(core.deleteNamespace({ name: namespace }));
  await statusOf(core.deleteNode({ name: nodeName }));
  await statusOf(coordination.deleteNamespacedLease({ name: nodeName, namespace: 'kube-node-lease' }));
});

async function podsOfDeployment(name: string): Promise<k8s.V1Pod[]> {
  const pods = await core.listNamespacedPod({ namespace, labelSelector: `app=${name}` });
  return pods.items;
}

describe('controllers (kube-controller-manager)', () => {
  it('creates a ReplicaSet and a Pod for a Deployment; the Pod is Pending without nodes', async () => {
    await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: {
              nodeSelector: { [NODE_LABEL]: nodeName },
              containers: [
                {
                  name: 'app',
                  image: PAUSE_IMAGE,
                  resources: { requests: { cpu: '500m', memory: '64Mi' } },
                },
              ],
            },
          },
        },
      },
    });

    const replicaSet = await waitFor('the ReplicaSet of deployment/web', async () => {
      const list = await apps.listNamespacedReplicaSet({ namespace, labelSelector: 'app=web' });
      return list.items.find((rs) =>
        rs.metadata?.ownerReferences?.some((o) => o.kind === 'Deployment' && o.name === 'web'),
      );
    });
    const owner = replicaSet.metadata?.ownerReferences?.[0];
    expect(owner?.controller).toBe(true);
    // Written by the deployment controller, not by us.
    expect(replicaSet.metadata?.managedFields?.map((f) => f.manager)).toContain('kube-controller-manager');

    const pod = await waitFor('the Pod of deployment/web', async () => (await podsOfDeployment('web'))[0]);
    expect(pod.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: 'ReplicaSet',
      name: replicaSet.metadata?.name,
    });
    expect(pod.status?.phase).toBe('Pending');
    expect(pod.spec?.nodeName).toBeUndefined();
    // The default ServiceAccount was injected by the ServiceAccount admission plugin.
    expect(pod.spec?.serviceAccountName).toBe('default');
  });
});

describe('scheduling (kube-scheduler)', () => {
  it('binds the pending Pod once a Node with capacity exists', async () => {
    const now = new Date().toISOString();
    const node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: nodeName, labels: { [NODE_LABEL]: nodeName, 'kubernetes.io/hostname': nodeName } },
      status: {
        capacity: { cpu: '1', memory: '2Gi', pods: '110' },
        allocatable: { cpu: '1', memory: '2Gi', pods: '110' },
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'KubeletReady',
            message: 'control-plane test node',
            lastHeartbeatTime: now,
            lastTransitionTime: now,
          },
        ],
        addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
        daemonEndpoints: { kubeletEndpoint: { Port: kubeletPort } },
      },
    };
    kubectl(['apply', '-f', '-'], { input: JSON.stringify(node) });
    // The node-lifecycle controller watches the Lease as the heartbeat; keep it fresh so the
    // node is not marked unreachable (and tainted) while the suite runs.
    await renewLease();
    leaseTimer = setInterval(() => void renewLease().catch(() => undefined), 5_000);

    const stored = await core.readNode({ name: nodeName });
    expect(stored.status?.allocatable?.cpu).toBe('1');

    const bound = await waitFor(
      `deployment/web's pod bound to ${nodeName}`,
      async () => (await podsOfDeployment('web')).find((p) => p.spec?.nodeName === nodeName),
      90_000,
    );
    expect(bound.status?.conditions?.find((c) => c.type === 'PodScheduled')?.status).toBe('True');
  });

  it('reports FailedScheduling from default-scheduler for a Pod that cannot fit', async () => {
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'too-big' },
        spec: {
          nodeSelector: { [NODE_LABEL]: nodeName },
          containers: [{ name: 'app', image: PAUSE_IMAGE, resources: { requests: { cpu: '64' } } }],
        },
      },
    });
    const event = await waitFor('a FailedScheduling event for pod/too-big', async () => {
      const out = kubectl([
        'get',
        'events',
        '-n',
        namespace,
        '--field-selector',
        'involvedObject.kind=Pod,involvedObject.name=too-big,reason=FailedScheduling',
        '-o',
        'json',
      ]);
      return (JSON.parse(out) as { items: CoreEvent[] }).items[0];
    });
    expect(event.type).toBe('Warning');
    expect(event.reportingComponent || event.source?.component).toBe('default-scheduler');
    expect(event.message).toMatch(/^0\/\d+ nodes are available: .*1 Insufficient cpu/);

    const pod = await core.readNamespacedPod({ name: 'too-big', namespace });
    expect(pod.spec?.nodeName).toBeUndefined();
    const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    expect(scheduled).toMatchObject({ status: 'False', reason: 'Unschedulable' });
  });
});

describe('kubelet API proxy (what simulated kubelets rely on)', () => {
  it('kubectl logs reaches the kubelet at the Node InternalIP and daemonEndpoints port, TLS verified both ways', async () => {
    const pod = await waitFor('a bound pod of deployment/web', async () =>
      (await podsOfDeployment('web')).find((p) => p.spec?.nodeName === nodeName),
    );
    const podName = pod.metadata?.name ?? '';
    expect(await kubectlAsync(['-n', namespace, 'logs', podName, '-c', 'app'])).toBe(
      'hello from the simulated kubelet\n',
    );
    const viaClient = await core.readNamespacedPodLog({ name: podName, namespace, container: 'app' });
    expect(viaClient).toBe('hello from the simulated kubelet\n');
    expect(kubeletRequests[0]).toEqual({
      path: `/containerLogs/${namespace}/${podName}/app`,
      clientCommonName: 'kube-apiserver-kubelet-client',
    });
  });
});

describe('API semantics', () => {
  it('rejects an update with a stale resourceVersion with 409 Conflict', async () => {
    const stale = await apps.readNamespacedDeployment({ name: 'web', namespace });
    await apps.patchNamespacedDeployment(
      { name: 'web', namespace, body: { metadata: { annotations: { 'kubemend.io/touched': '1' } } } },
      mergePatch,
    );
    stale.metadata = { ...stale.metadata, labels: { ...stale.metadata?.labels, stale: 'true' } };
    let error: unknown;
    try {
      await apps.replaceNamespacedDeployment({ name: 'web', namespace, body: stale });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(k8s.ApiException);
    const apiError = error as k8s.ApiException<unknown>;
    expect(apiError.code).toBe(409);
    const body = (typeof apiError.body === 'string' ? JSON.parse(apiError.body) : apiError.body) as {
      reason?: string;
    };
    expect(body.reason).toBe('Conflict');
  });

  it('server-side dry-run patch returns the changed object and stores nothing (client-node)', async () => {
    const before = await apps.readNamespacedDeployment({ name: 'web', namespace });
    const preview = await apps.patchNamespacedDeployment(
      { name: 'web', namespace, dryRun: 'All', body: { spec: { replicas: 3 } } },
      mergePatch,
    );
    expect(preview.spec?.replicas).toBe(3);
    const after = await apps.readNamespacedDeployment({ name: 'web', namespace });
    expect(after.spec?.replicas).toBe(1);
    // Nothing stored: a stored spec change would bump the generation. (resourceVersion is not
    // compared: controllers write status at any moment.)
    expect(after.metadata?.generation).toBe(before.metadata?.generation);
    expect(after.spec).toEqual(before.spec);
  });

  it('server-side dry-run patch returns the changed object and stores nothing (kubectl)', () => {
    const before = JSON.parse(
      kubectl(['-n', namespace, 'get', 'deployment', 'web', '-o', 'json']),
    ) as k8s.V1Deployment;
    const preview = JSON.parse(
      kubectl([
        '-n',
        namespace,
        'patch',
        'deployment',
        'web',
        '--type=merge',
        '-p',
        '{"metadata":{"labels":{"dry":"run"}}}',
        '--dry-run=server',
        '-o',
        'json',
      ]),
    ) as k8s.V1Deployment;
    expect(preview.metadata?.labels?.['dry']).toBe('run');
    const after = JSON.parse(
      kubectl(['-n', namespace, 'get', 'deployment', 'web', '-o', 'json']),
    ) as k8s.V1Deployment;
    expect(after.metadata?.labels?.['dry']).toBeUndefined();
    expect(after.metadata?.labels).toEqual(before.metadata?.labels);
    expect(after.metadata?.generation).toBe(before.metadata?.generation);
  });
});

async function renewLease(): Promise<void> {
  // V1MicroTime serialises with the microsecond precision the Lease API requires.
  const spec = { holderIdentity: nodeName, leaseDurationSeconds: 40, renewTime: new k8s.V1MicroTime() };
  const status = await statusOf(
    coordination.patchNamespacedLease(
      { name: nodeName, namespace: 'kube-node-lease', body: { spec } },
      mergePatch,
    ),
  );
  if (status === 404) {
    await coordination.createNamespacedLease({
      namespace: 'kube-node-lease',
      body: { metadata: { name: nodeName }, spec },
    });
  } else if (status !== 200) {
    throw new Error(`renewing Lease kube-node-lease/${nodeName}: HTTP ${status}`);
  }
}
