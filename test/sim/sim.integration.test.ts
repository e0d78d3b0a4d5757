// The simulated kubelet against the real control plane: scheduling by kube-scheduler, pod
// lifecycles driven through pods/status, kubelet events, logs through the apiserver, metrics
// through the aggregated metrics.k8s.io API, and the same events for the same manifests.
// Needs `scripts/cluster/up.sh` (which starts the simulator); fails with instructions otherwise.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as k8s from '@kubernetes/client-node';
import { kubectlAsync, requireCluster, statusOf, uniqueName, waitFor } from '../cluster/cluster-harness.js';

const NS = uniqueName('sim-it');
let core: k8s.CoreV1Api;
let apps: k8s.AppsV1Api;
const namespaces = [NS];

interface CoreEvent {
  metadata: { name: string };
  type: string;
  reason: string;
  message: string;
  count?: number;
  source?: { component?: string; host?: string };
  reportingComponent?: string;
  reportingInstance?: string;
  involvedObject: { kind: string; name: string; uid?: string; fieldPath?: string };
}

beforeAll(async () => {
  const kc = await requireCluster();
  core = kc.makeApiClient(k8s.CoreV1Api);
  apps = kc.makeApiClient(k8s.AppsV1Api);
  let status: k8s.V1ConfigMap;
  try {
    status = await core.readNamespacedConfigMap({ name: 'world-status', namespace: 'kubemend-sim' });
  } catch {
    throw new Error(
      'The simulated kubelet has never run on this cluster (no ConfigMap kubemend-sim/world-status). Start it with `scripts/cluster/up.sh`.',
    );
  }
  const pid = Number(status.data?.['pid']);
  try {
    process.kill(pid, 0);
  } catch {
    throw new Error(
      `The simulated kubelet (pid ${pid}) is not running. Restart it with \`scripts/cluster/up.sh\` (log: .state/cluster/logs/kubemend-sim.log).`,
    );
  }
  await createNamespace(NS);
});

afterAll(async () => {
  if (!core) return;
  for (const namespace of namespaces) await statusOf(core.deleteNamespace({ name: namespace }));
});

async function createNamespace(name: string): Promise<void> {
  await core.createNamespace({ body: { metadata: { name } } });
  await waitFor(`ServiceAccount ${name}/default`, async () =>
    (await statusOf(core.readNamespacedServiceAccount({ name: 'default', namespace: name }))) === 200
      ? true
      : undefined,
  );
}

function deployment(name: string, container: k8s.V1Container, replicas = 1): k8s.V1Deployment {
  return {
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ resources: { requests: { cpu: '50m', memory: '32Mi' } }, ...container }] },
      },
    },
  };
}

async function pods(app: string, namespace = NS): Promise<k8s.V1Pod[]> {
  return (await core.listNamespacedPod({ namespace, labelSelector: `app=${app}` })).items;
}

async function events(namespace: string, pod: string): Promise<CoreEvent[]> {
  const out = await kubectlAsync([
    'get',
    'events',
    '-n',
    namespace,
    '--field-selector',
    `involvedObject.name=${pod}`,
    '-o',
    'json',
  ]);
  const items = (JSON.parse(out) as { items: CoreEvent[] }).items;
  // Event names end in the creation time in hex nanoseconds: that is the order they were recorded in.
  const order = (e: CoreEvent) => BigInt(`0x${e.metadata.name.slice(e.metadata.name.lastIndexOf('.') + 1)}`);
  return items.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
}

const status0 = (pod: k8s.V1Pod) => pod.status?.containerStatuses?.[0];

describe('simulated nodes', () => {
  it('registers the world nodes Ready, with kubelet v1.36.3, loopback InternalIP and distinct kubelet ports', async () => {
    const nodes = (await core.listNode({ labelSelector: 'kubemend.io/simulated=true' })).items;
    expect(nodes.length).toBeGreaterThanOrEqual(3);
    const ports = new Set(nodes.map((n) => n.status?.daemonEndpoints?.kubeletEndpoint?.Port));
    expect(ports.size).toBe(nodes.length);
    for (const node of nodes) {
      expect(node.status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
        status: 'True',
        reason: 'KubeletReady',
      });
      expect(node.status?.nodeInfo?.kubeletVersion).toBe('v1.36.3');
      expect(node.status?.addresses).toContainEqual({ type: 'InternalIP', address: '127.0.0.1' });
      expect(node.spec?.podCIDR).toMatch(/^10\.244\.\d+\.0\/24$/);
    }
  });
});

describe('pod lifecycle', () => {
  it('runs a Deployment: pods scheduled by kube-scheduler become Running and Ready, with kubelet events', async () => {
    await apps.createNamespacedDeployment({
      namespace: NS,
      body: deployment(
        'web',
        {
          name: 'web',
          image: 'ghcr.io/acme/web:v2.0.0',
          readinessProbe: { httpGet: { path: '/', port: 8080 }, initialDelaySeconds: 2, periodSeconds: 5 },
        },
        2,
      ),
    });
    await waitFor(
      'deployment/web Available',
      async () => {
        const d = await apps.readNamespacedDeployment({ name: 'web', namespace: NS });
        return d.status?.readyReplicas === 2 ? d : undefined;
      },
      60_000,
    );
    const list = await pods('web');
    for (const pod of list) {
      expect(pod.spec?.nodeName).toMatch(/^sim-node-/);
      expect(pod.status?.phase).toBe('Running');
      expect(pod.status?.podIP).toMatch(/^10\.244\.\d+\.\d+$/);
      expect(pod.status?.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual(
        expect.arrayContaining([
          'PodScheduled=True',
          'PodReadyToStartContainers=True',
          'Initialized=True',
          'ContainersReady=True',
          'Ready=True',
        ]),
      );
    }
    const recorded = await events(NS, list[0]?.metadata?.name ?? '');
    const started = recorded.find((e) => e.reason === 'Started');
    expect(started).toMatchObject({
      type: 'Normal',
      message: 'Started container web',
      source: { component: 'kubelet', host: list[0]?.spec?.nodeName },
      reportingComponent: 'kubelet',
      reportingInstance: list[0]?.spec?.nodeName,
      involvedObject: { kind: 'Pod', fieldPath: 'spec.containers{web}' },
    });
    expect(recorded.map((e) => e.reason)).toEqual(
      expect.arrayContaining(['Scheduled', 'Created', 'Started']),
    );
  });

  it('serves container logs through the apiserver (kubectl logs and client-node)', async () => {
    const [pod] = await pods('web');
    const name = pod?.metadata?.name ?? '';
    expect(await kubectlAsync(['-n', NS, 'logs', name])).toBe('nginx: ready to serve on :8080\n');
    expect(await core.readNamespacedPodLog({ name, namespace: NS, container: 'web', tailLines: 1 })).toBe(
      'nginx: ready to serve on :8080\n',
    );
    await expect(kubectlAsync(['-n', NS, 'logs', name, '--previous'])).rejects.toThrow(
      `previous terminated container "web" in pod "${name}" not found`,
    );
  });

  it('serves usage through metrics.k8s.io (kubectl top)', async () => {
    const top = await waitFor('kubectl top for the web pods', async () => {
      const out = await kubectlAsync(['top', 'pods', '-n', NS, '-l', 'app=web', '--no-headers']);
      return out.trim().split('\n').length === 2 ? out : undefined;
    });
    expect(top).toMatch(/web-\S+\s+50m\s+64Mi/);
  });

  it('OOM: limit below the working set → OOMKilled 137, CrashLoopBackOff, BackOff event, logs --previous', async () => {
    await apps.createNamespacedDeployment({
      namespace: NS,
      body: deployment('oom', {
        name: 'api',
        image: 'ghcr.io/acme/api:v1.4.0',
        resources: { requests: { cpu: '50m', memory: '64Mi' }, limits: { memory: '128Mi' } },
      }),
    });
    const pod = await waitFor(
      'the oom pod in CrashLoopBackOff after 2 restarts',
      async () => {
        const [p] = await pods('oom');
        const s = p && status0(p);
        return s && s.restartCount >= 2 && s.state?.waiting?.reason === 'CrashLoopBackOff' ? p : undefined;
      },
      60_000,
    );
    const s = status0(pod);
    expect(s?.lastState?.terminated).toMatchObject({ reason: 'OOMKilled', exitCode: 137 });
    const name = pod.metadata?.name ?? '';
    expect(s?.state?.waiting?.message).toMatch(
      new RegExp(
        `^back-off (10|20|40)s restarting failed container=api pod=${name}_${NS}\\(${pod.metadata?.uid}\\)$`,
      ),
    );
    const backOff = (await events(NS, name)).find((e) => e.reason === 'BackOff');
    expect(backOff).toMatchObject({
      type: 'Warning',
      message: `Back-off restarting failed container api in pod ${name}_${NS}(${pod.metadata?.uid})`,
      involvedObject: { fieldPath: 'spec.containers{api}' },
    });
    expect(await kubectlAsync(['-n', NS, 'logs', name, '--previous'])).toBe(
      'api v1.4.0 listening on :8080\n',
    );
  });

  it('bad image: ErrImagePull then ImagePullBackOff with the runtime not-found text', async () => {
    await apps.createNamespacedDeployment({
      namespace: NS,
      body: deployment('badimage', { name: 'api', image: 'ghcr.io/acme/api:v9.9.9' }),
    });
    const pod = await waitFor('ImagePullBackOff', async () => {
      const [p] = await pods('badimage');
      return p && status0(p)?.state?.waiting?.reason === 'ImagePullBackOff' ? p : undefined;
    });
    const notFound =
      'rpc error: code = NotFound desc = failed to pull and unpack image "ghcr.io/acme/api:v9.9.9": failed to resolve reference "ghcr.io/acme/api:v9.9.9": ghcr.io/acme/api:v9.9.9: not found';
    expect(status0(pod)?.state?.waiting?.message).toBe(
      `Back-off pulling image "ghcr.io/acme/api:v9.9.9": ErrImagePull: ${notFound}`,
    );
    const sequence = (await events(NS, pod.metadata?.name ?? ''))
      .filter((e) => e.source?.component === 'kubelet')
      .map((e) => `${e.type} ${e.reason} ${e.message}`);
    expect(sequence.slice(0, 5)).toEqual([
      'Normal Pulling Pulling image "ghcr.io/acme/api:v9.9.9"',
      `Warning Failed Failed to pull image "ghcr.io/acme/api:v9.9.9": ${notFound}`,
      'Warning Failed Error: ErrImagePull',
      'Normal BackOff Back-off pulling image "ghcr.io/acme/api:v9.9.9"',
      'Warning Failed Error: ImagePullBackOff',
    ]);
    await expect(kubectlAsync(['-n', NS, 'logs', pod.metadata?.name ?? ''])).rejects.toThrow(
      'is waiting to start: trying and failing to pull image',
    );
  });

  it('liveness probe on the wrong port: Unhealthy (connection refused), Killing, restarts', async () => {
    await apps.createNamespacedDeployment({
      namespace: NS,
      body: deployment('liveness', {
        name: 'api',
        image: 'ghcr.io/acme/api:v1.4.0',
        livenessProbe: {
          httpGet: { path: '/healthz', port: 8081 },
          initialDelaySeconds: 3,
          periodSeconds: 3,
          failureThreshold: 3,
        },
      }),
    });
    const pod = await waitFor(
      'a liveness restart',
      async () => {
        const [p] = await pods('liveness');
        return p && (status0(p)?.restartCount ?? 0) >= 1 ? p : undefined;
      },
      60_000,
    );
    const recorded = await events(NS, pod.metadata?.name ?? '');
    const unhealthy = recorded.find((e) => e.reason === 'Unhealthy');
    const ip = pod.status?.podIP;
    expect(unhealthy?.message).toBe(
      `Liveness probe failed: Get "http://${ip}:8081/healthz": dial tcp ${ip}:8081: connect: connection refused`,
    );
    expect(unhealthy?.count).toBeGreaterThanOrEqual(3);
    expect(recorded.find((e) => e.reason === 'Killing')?.message).toBe(
      'Container api failed liveness probe, will be restarted',
    );
    expect(status0(pod)?.lastState?.terminated).toMatchObject({ reason: 'Error', exitCode: 143 });
  });

  it('graceful deletion: the pod goes away after Killing "Stopping container"', async () => {
    const [pod] = await pods('web');
    const name = pod?.metadata?.name ?? '';
    await core.deleteNamespacedPod({ name, namespace: NS });
    await waitFor(
      `pod ${name} deleted`,
      async () =>
        (await statusOf(core.readNamespacedPod({ name, namespace: NS }))) === 404 ? true : undefined,
      30_000,
    );
    expect((await events(NS, name)).map((e) => `${e.reason} ${e.message}`)).toContain(
      'Killing Stopping container web',
    );
  });
});

describe('determinism', () => {
  it('the same manifest gives the same kubelet events in the same order', async () => {
    const run = async (namespace: string) => {
      if (namespace !== NS) {
        namespaces.push(namespace);
        await createNamespace(namespace);
      }
      await apps.createNamespacedDeployment({
        namespace,
        body: deployment('det', {
          name: 'api',
          image: 'ghcr.io/acme/api:v1.5.0',
          imagePullPolicy: 'Always',
          readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 2 },
        }),
      });
      const pod = await waitFor(
        'three restarts',
        async () => {
          const [p] = await pods('det', namespace);
          return p && (status0(p)?.restartCount ?? 0) >= 3 ? p : undefined;
        },
        60_000,
      );
      const name = pod.metadata?.name ?? '';
      return (await events(namespace, name))
        .filter((e) => e.source?.component === 'kubelet')
        .map(
          (e) =>
            // The pod IP depends on where the scheduler placed the pod and what else runs there.
            `${e.reason}: ${e.message
              .replaceAll(name, 'POD')
              .replaceAll(namespace, 'NS')
              .replaceAll(pod.metadata?.uid ?? '', 'UID')
              .replaceAll(pod.status?.podIP ?? '', 'POD_IP')}`,
        );
    };
    const first = await run(uniqueName('sim-det'));
    const second = await run(uniqueName('sim-det'));
    expect(first).toEqual(second);
    expect(first.slice(0, 4)).toEqual([
      'Pulling: Pulling image "ghcr.io/acme/api:v1.5.0"',
      'Pulled: Successfully pulled image "ghcr.io/acme/api:v1.5.0" in 1s (1s including waiting). Image size: 52428800 bytes.',
      'Created: Created container: api',
      'Started: Started container api',
    ]);
  });
});
