/**
 * A small cluster for scan unit tests: Deployments with their ReplicaSets and pods in the states the
 * kubelet reports (running, crash-looping, OOM-killed, image pull back-off, config error,
 * unschedulable, not ready), Jobs, Services with Endpoints, claims, autoscalers and Nodes — with
 * uids, owner references and the events a real cluster would hold. Timestamps are relative to NOW.
 */
import type { KubeObject } from '../../src/cluster/gateway.js';

export const NOW = Date.parse('2025-06-01T12:00:00Z');
export const ago = (seconds: number): string => new Date(NOW - seconds * 1000).toISOString();

let uidCounter = 0;
const uid = (): string => `uid-${++uidCounter}`;

export type PodState =
  | 'running'
  | 'crashloop'
  | 'oom'
  | 'image-pull'
  | 'config-missing'
  | 'unschedulable'
  | 'not-ready'
  | 'starting'
  | 'readiness-blip';

interface ContainerSpec {
  readonly image?: string;
  readonly memory?: string;
}

export class World {
  readonly objects: KubeObject[] = [];

  deployment(
    namespace: string,
    name: string,
    state: PodState,
    options: { replicas?: number; container?: ContainerSpec; labels?: Record<string, string> } = {},
  ): this {
    const replicas = options.replicas ?? 2;
    const labels = { app: name, ...options.labels };
    const deploymentUid = uid();
    const hash = '5d8f7c9b6';
    const image = options.container?.image ?? 'ghcr.io/acme/api:v1.4.0';
    const container = {
      name: 'main',
      image,
      ports: [{ containerPort: 8080 }],
      resources: { limits: { memory: options.container?.memory ?? '256Mi' } },
      ...(state === 'config-missing'
        ? {
            env: [{ name: 'DB_URL', valueFrom: { configMapKeyRef: { name: `${name}-config`, key: 'url' } } }],
          }
        : {}),
      ...(state === 'not-ready' || state === 'readiness-blip'
        ? {
            readinessProbe: {
              httpGet: { path: '/ready', port: 8080 },
              periodSeconds: 10,
              failureThreshold: 3,
            },
          }
        : {}),
    };
    const ready = state === 'running' || state === 'readiness-blip' ? replicas : 0;
    this.objects.push({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace, uid: deploymentUid, labels, creationTimestamp: ago(3600), generation: 1 },
      spec: {
        replicas,
        selector: { matchLabels: { app: name } },
        template: { metadata: { labels }, spec: { containers: [container] } },
      },
      status: {
        observedGeneration: 1,
        replicas,
        readyReplicas: ready,
        availableReplicas: ready,
        conditions: [
          {
            type: 'Available',
            status: ready === replicas ? 'True' : 'False',
            reason: ready === replicas ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
          },
          { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' },
        ],
      },
    });
    const rsUid = uid();
    const rsName = `${name}-${hash}`;
    this.objects.push({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: rsName,
        namespace,
        uid: rsUid,
        labels: { ...labels, 'pod-template-hash': hash },
        annotations: { 'deployment.kubernetes.io/revision': '1' },
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'Deployment', name, uid: deploymentUid, controller: true },
        ],
        creationTimestamp: ago(3600),
      },
      spec: {
        replicas,
        selector: { matchLabels: { app: name, 'pod-template-hash': hash } },
        template: { metadata: { labels }, spec: { containers: [container] } },
      },
      status: { replicas, readyReplicas: ready },
    });
    for (let index = 0; index < replicas; index++) {
      this.pod(namespace, `${rsName}-p${index}x`, state, {
        labels: { ...labels, 'pod-template-hash': hash },
        owner: { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rsName, uid: rsUid, controller: true },
        container,
      });
    }
    return this;
  }

  pod(
    namespace: string,
    name: string,
    state: PodState,
    options: {
      labels?: Record<string, string>;
      owner?: Record<string, unknown>;
      container?: Record<string, unknown>;
    } = {},
  ): this {
    const podUid = uid();
    const container = options.container ?? { name: 'main', image: 'ghcr.io/acme/api:v1.4.0' };
    const started = state === 'starting' ? ago(5) : ago(1800);
    const base = {
      name: 'main',
      image: String(container.image),
      imageID: '',
      restartCount: 0,
      ready: true,
      started: true,
    };
    let status: Record<string, unknown>;
    let phase = 'Running';
    const events: Array<{ type: string; reason: string; message: string; count?: number }> = [];
    switch (state) {
      case 'running':
        status = { ...base, state: { running: { startedAt: started } } };
        break;
      case 'readiness-blip':
        status = { ...base, state: { running: { startedAt: started } } };
        events.push({
          type: 'Warning',
          reason: 'Unhealthy',
          message:
            'Readiness probe failed: Get "http://10.244.0.5:8080/ready": dial tcp 10.244.0.5:8080: connect: connection refused',
          count: 1,
        });
        break;
      case 'starting':
        status = { ...base, ready: false, state: { running: { startedAt: started } } };
        break;
      case 'not-ready':
        status = { ...base, ready: false, state: { running: { startedAt: started } } };
        events.push({
          type: 'Warning',
          reason: 'Unhealthy',
          message: 'Readiness probe failed: HTTP probe failed with statuscode: 404',
          count: 180,
        });
        break;
      case 'crashloop':
        status = {
          ...base,
          ready: false,
          started: false,
          restartCount: 6,
          state: {
            waiting: {
              reason: 'CrashLoopBackOff',
              message: `back-off 2m40s restarting failed container=main pod=${name}_${namespace}(${podUid})`,
            },
          },
          lastState: {
            terminated: { reason: 'Error', exitCode: 1, startedAt: ago(130), finishedAt: ago(120) },
          },
        };
        events.push({
          type: 'Warning',
          reason: 'BackOff',
          message: `Back-off restarting failed container main in pod ${name}_${namespace}(${podUid})`,
          count: 30,
        });
        break;
      case 'oom':
        status = {
          ...base,
          ready: false,
          started: false,
          restartCount: 4,
          state: {
            waiting: { reason: 'CrashLoopBackOff', message: 'back-off 1m20s restarting failed container' },
          },
          lastState: {
            terminated: { reason: 'OOMKilled', exitCode: 137, startedAt: ago(70), finishedAt: ago(60) },
          },
        };
        events.push({
          type: 'Warning',
          reason: 'BackOff',
          message: `Back-off restarting failed container main in pod ${name}_${namespace}(${podUid})`,
          count: 12,
        });
        break;
      case 'image-pull':
        phase = 'Pending';
        status = {
          ...base,
          ready: false,
          started: false,
          state: {
            waiting: {
              reason: 'ImagePullBackOff',
              message: `Back-off pulling image "${String(container.image)}"`,
            },
          },
        };
        events.push({
          type: 'Warning',
          reason: 'Failed',
          message: `Failed to pull image "${String(container.image)}": rpc error: code = NotFound desc = failed to pull and unpack image "${String(container.image)}": failed to resolve reference "${String(container.image)}": ${String(container.image)}: not found`,
          count: 5,
        });
        break;
      case 'config-missing':
        phase = 'Pending';
        status = {
          ...base,
          ready: false,
          started: false,
          state: {
            waiting: {
              reason: 'CreateContainerConfigError',
              message: `configmap "${name.split('-')[0]}-config" not found`,
            },
          },
        };
        break;
      case 'unschedulable':
        phase = 'Pending';
        status = {
          ...base,
          ready: false,
          started: false,
          state: { waiting: { reason: 'ContainerCreating' } },
        };
        events.push({
          type: 'Warning',
          reason: 'FailedScheduling',
          message:
            '0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
          count: 3,
        });
        break;
    }
    const ready = state === 'running' || state === 'readiness-blip';
    this.objects.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace,
        uid: podUid,
        labels: options.labels ?? { app: name },
        creationTimestamp: state === 'starting' ? ago(10) : ago(1800),
        ...(options.owner ? { ownerReferences: [options.owner] } : {}),
      },
      spec: {
        nodeName: state === 'unschedulable' ? undefined : 'node-a',
        containers: [container],
        restartPolicy: 'Always',
      },
      status: {
        phase,
        startTime: ago(1800),
        conditions: [
          state === 'unschedulable'
            ? {
                type: 'PodScheduled',
                status: 'False',
                reason: 'Unschedulable',
                message: '0/3 nodes are available: 3 Insufficient cpu.',
              }
            : { type: 'PodScheduled', status: 'True' },
          {
            type: 'Ready',
            status: ready ? 'True' : 'False',
            ...(ready
              ? {}
              : { reason: 'ContainersNotReady', message: 'containers with unready status: [main]' }),
          },
        ],
        ...(state === 'unschedulable' ? {} : { containerStatuses: [status] }),
      },
    });
    for (const event of events) this.event(namespace, { kind: 'Pod', name, uid: podUid, namespace }, event);
    return this;
  }

  event(
    namespace: string,
    involvedObject: Record<string, unknown>,
    event: { type: string; reason: string; message: string; count?: number },
  ): this {
    this.objects.push({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${String(involvedObject.name)}.${uid()}`, namespace },
      involvedObject,
      type: event.type,
      reason: event.reason,
      message: event.message,
      count: event.count ?? 1,
      firstTimestamp: ago(1700),
      lastTimestamp: ago(30),
      source: { component: 'kubelet', host: 'node-a' },
    });
    return this;
  }

  service(namespace: string, name: string, selector: Record<string, string>, readyAddresses: number): this {
    this.objects.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace, uid: uid(), creationTimestamp: ago(3600) },
      spec: { selector, ports: [{ port: 80, targetPort: 8080 }], type: 'ClusterIP' },
    });
    this.objects.push({
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name, namespace },
      subsets:
        readyAddresses > 0
          ? [
              {
                addresses: Array.from({ length: readyAddresses }, (_, i) => ({ ip: `10.244.0.${i + 2}` })),
                ports: [{ port: 8080 }],
              },
            ]
          : [],
    });
    return this;
  }

  failedJob(namespace: string, name: string): this {
    const jobUid = uid();
    this.objects.push({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name, namespace, uid: jobUid, creationTimestamp: ago(900) },
      spec: {
        backoffLimit: 2,
        template: {
          spec: {
            containers: [{ name: 'main', image: 'ghcr.io/acme/batch:v1.1.0' }],
            restartPolicy: 'Never',
          },
        },
      },
      status: {
        failed: 3,
        conditions: [
          {
            type: 'FailureTarget',
            status: 'True',
            reason: 'BackoffLimitExceeded',
            message: 'Job has reached the specified backoff limit',
          },
          {
            type: 'Failed',
            status: 'True',
            reason: 'BackoffLimitExceeded',
            message: 'Job has reached the specified backoff limit',
          },
        ],
      },
    });
    this.objects.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${name}-abcde`,
        namespace,
        uid: uid(),
        labels: { 'job-name': name },
        creationTimestamp: ago(800),
        ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid: jobUid, controller: true }],
      },
      spec: {
        nodeName: 'node-a',
        containers: [{ name: 'main', image: 'ghcr.io/acme/batch:v1.1.0' }],
        restartPolicy: 'Never',
      },
      status: {
        phase: 'Failed',
        containerStatuses: [
          {
            name: 'main',
            ready: false,
            restartCount: 0,
            state: { terminated: { reason: 'Error', exitCode: 2, finishedAt: ago(700) } },
          },
        ],
      },
    });
    this.event(
      namespace,
      { kind: 'Job', name, namespace, uid: jobUid },
      {
        type: 'Warning',
        reason: 'BackoffLimitExceeded',
        message: 'Job has reached the specified backoff limit',
      },
    );
    return this;
  }

  pendingClaim(namespace: string, name: string, storageClass: string): this {
    this.objects.push({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name, namespace, uid: uid(), creationTimestamp: ago(900) },
      spec: {
        storageClassName: storageClass,
        accessModes: ['ReadWriteOnce'],
        resources: { requests: { storage: '1Gi' } },
      },
      status: { phase: 'Pending' },
    });
    this.event(
      namespace,
      { kind: 'PersistentVolumeClaim', name, namespace },
      {
        type: 'Warning',
        reason: 'ProvisioningFailed',
        message: `storageclass.storage.k8s.io "${storageClass}" not found`,
        count: 20,
      },
    );
    return this;
  }

  node(name: string, ready = true): this {
    this.objects.push({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        uid: uid(),
        labels: { 'kubernetes.io/hostname': name },
        creationTimestamp: ago(86_400),
      },
      spec: ready ? {} : { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }] },
      status: {
        allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
        conditions: [
          ready
            ? {
                type: 'Ready',
                status: 'True',
                reason: 'KubeletReady',
                message: 'kubelet is posting ready status',
              }
            : {
                type: 'Ready',
                status: 'Unknown',
                reason: 'NodeStatusUnknown',
                message: 'Kubelet stopped posting node status.',
              },
        ],
      },
    });
    return this;
  }
}
