// The pod state machine, driven by a manual clock: the same pod and world always give the same
// events in the same order, with the kubelet's wording.
import { describe, expect, it } from 'vitest';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { ManualClock } from './clock.js';
import {
  PodMachine,
  type ConfigLookup,
  type MachineStatus,
  type NodeRuntime,
  type PodEvent,
} from './pod-machine.js';
import { parseWorld, type World } from './world.js';

const world: World = parseWorld({
  timing: { scale: 1 },
  images: {
    'ghcr.io/acme/api:v1.4.0': {
      memory: '180Mi',
      cpu: '200m',
      listens: [8080],
      paths: { '/healthz': 200, '/ready': 200 },
      entrypoint: ['/app/api'],
      startSeconds: 2,
      logs: ['api v1.4.0 listening on :8080'],
    },
    'ghcr.io/acme/api:v1.5.0': {
      requiresEnv: ['PAYMENTS_URL'],
      crashLog: ['FATAL missing required environment variable PAYMENTS_URL'],
    },
    'ghcr.io/acme/batch:v1': { exitCode: 2, runSeconds: 2, crashLog: ['batch failed'] },
    'ghcr.io/acme/migrate:v1': { exitCode: 0, runSeconds: 1 },
    'ghcr.io/acme/slow:v1': { cpu: '1', latencyMs: 300, listens: [8080], paths: { '/ready': 200 } },
    'ghcr.io/acme/root:v1': { user: '0' },
    'registry.acme.io/billing:v3': {},
  },
  privateImages: { 'registry.acme.io/billing:v3': 'regcred' },
});

interface Recorded {
  events: PodEvent[];
  statuses: MachineStatus[];
  terminated: number;
}

function harness(
  containers: V1Container[],
  options: {
    restartPolicy?: string;
    configMaps?: Record<string, string[]>;
    secrets?: Record<string, string[]>;
    spec?: Record<string, unknown>;
  } = {},
) {
  const clock = new ManualClock();
  const recorded: Recorded = { events: [], statuses: [], terminated: 0 };
  const lookup: ConfigLookup = {
    configMap: async (_ns, name) =>
      options.configMaps?.[name] ? new Set(options.configMaps[name]) : undefined,
    secret: async (_ns, name) => (options.secrets?.[name] ? new Set(options.secrets[name]) : undefined),
  };
  const node: NodeRuntime = {
    name: 'node-a',
    hostIP: '127.0.0.1',
    images: new Set(),
    allocatePodIP: () => '10.244.1.2',
    releasePodIP: () => undefined,
  };
  const pod: V1Pod = {
    metadata: { name: 'api-7d9c-abcde', namespace: 'shop', uid: 'uid-1', generation: 1 },
    spec: {
      containers,
      restartPolicy: options.restartPolicy ?? 'Always',
      ...(options.spec ?? {}),
    } as V1Pod['spec'],
  };
  const machine = new PodMachine(pod, {
    world,
    clock,
    node,
    lookup,
    sink: {
      status: (status) => recorded.statuses.push(structuredClone(status)),
      event: (event) => recorded.events.push(event),
      terminated: () => (recorded.terminated += 1),
    },
  });
  void machine.run();
  return { clock, recorded, machine, pod };
}

const lines = (events: PodEvent[]) => events.map((e) => `${e.type} ${e.reason} ${e.message}`);
const last = (r: Recorded) => r.statuses[r.statuses.length - 1]!;
interface ContainerStatusView {
  ready: boolean;
  restartCount: number;
  image: string;
  state: { waiting: { reason: string; message?: string }; terminated: Record<string, unknown> };
  lastState: { terminated: Record<string, unknown> };
}
const status0 = (r: Recorded) => last(r).containerStatuses[0] as unknown as ContainerStatusView;
const REF = 'api-7d9c-abcde_shop(uid-1)';

describe('PodMachine', () => {
  it('starts a healthy container: pull, create, start, Ready once the readiness probe passes', async () => {
    const { clock, recorded } = harness([
      {
        name: 'api',
        image: 'ghcr.io/acme/api:v1.4.0',
        readinessProbe: { httpGet: { path: '/ready', port: 8080 }, initialDelaySeconds: 3, periodSeconds: 5 },
      },
    ]);
    await clock.advance(10_000);
    expect(lines(recorded.events)).toEqual([
      'Normal Pulling Pulling image "ghcr.io/acme/api:v1.4.0"',
      'Normal Pulled Successfully pulled image "ghcr.io/acme/api:v1.4.0" in 1s (1s including waiting). Image size: 52428800 bytes.',
      'Normal Created Created container: api',
      'Normal Started Started container api',
    ]);
    expect(recorded.events[2]?.fieldPath).toBe('spec.containers{api}');
    const status = last(recorded);
    expect(status.phase).toBe('Running');
    expect(status.podIP).toBe('10.244.1.2');
    expect(status.conditions.map((c) => `${c.type}=${c.status}`)).toEqual([
      'PodReadyToStartContainers=True',
      'Initialized=True',
      'Ready=True',
      'ContainersReady=True',
    ]);
    expect(status0(recorded)).toMatchObject({
      ready: true,
      started: true,
      restartCount: 0,
      image: 'ghcr.io/acme/api:v1.4.0',
    });
  });

  it('OOMKilled with exit 137, immediate first restart, then CrashLoopBackOff 10s, 20s', async () => {
    const { clock, recorded, machine } = harness([
      { name: 'api', image: 'ghcr.io/acme/api:v1.4.0', resources: { limits: { memory: '128Mi' } } },
    ]);
    await clock.advance(2_500);
    expect(status0(recorded).restartCount).toBe(1);
    expect(status0(recorded).lastState.terminated).toMatchObject({ reason: 'OOMKilled', exitCode: 137 });
    await clock.advance(1_000);
    expect(status0(recorded).state.waiting).toEqual({
      reason: 'CrashLoopBackOff',
      message: `back-off 10s restarting failed container=api pod=${REF}`,
    });
    expect(lines(recorded.events)).toContain(
      `Warning BackOff Back-off restarting failed container api in pod ${REF}`,
    );
    await clock.advance(11_000);
    expect(status0(recorded).restartCount).toBe(2);
    await clock.advance(2_000);
    expect(status0(recorded).state.waiting.message).toBe(
      `back-off 20s restarting failed container=api pod=${REF}`,
    );
    expect(last(recorded).phase).toBe('Running');
    expect(machine.logs('api', true)).toEqual({
      ok: true,
      lines: [expect.objectContaining({ text: 'api v1.4.0 listening on :8080' })],
    });
  });

  it('unknown image: ErrImagePull then ImagePullBackOff with the runtime not-found text', async () => {
    const { clock, recorded, machine } = harness([{ name: 'api', image: 'ghcr.io/acme/api:v9.9.9' }]);
    await clock.advance(3_000);
    const notFound =
      'rpc error: code = NotFound desc = failed to pull and unpack image "ghcr.io/acme/api:v9.9.9": failed to resolve reference "ghcr.io/acme/api:v9.9.9": ghcr.io/acme/api:v9.9.9: not found';
    expect(lines(recorded.events)).toEqual([
      'Normal Pulling Pulling image "ghcr.io/acme/api:v9.9.9"',
      `Warning Failed Failed to pull image "ghcr.io/acme/api:v9.9.9": ${notFound}`,
      'Warning Failed Error: ErrImagePull',
      'Normal BackOff Back-off pulling image "ghcr.io/acme/api:v9.9.9"',
      'Warning Failed Error: ImagePullBackOff',
    ]);
    expect(status0(recorded).state.waiting).toEqual({
      reason: 'ImagePullBackOff',
      message: `Back-off pulling image "ghcr.io/acme/api:v9.9.9": ErrImagePull: ${notFound}`,
    });
    expect(last(recorded).phase).toBe('Pending');
    expect(machine.logs('api', false)).toEqual({
      ok: false,
      message:
        'container "api" in pod "api-7d9c-abcde" is waiting to start: trying and failing to pull image',
    });
  });

  it('unknown image, retried: the reason stays ErrImagePull / ImagePullBackOff, never ContainerCreating again', async () => {
    const { clock, recorded } = harness([{ name: 'api', image: 'ghcr.io/acme/api:v9.9.9' }]);
    await clock.advance(60_000);
    const reasons = recorded.statuses.map(
      (s) => (s.containerStatuses[0] as unknown as ContainerStatusView).state.waiting?.reason,
    );
    const pulls = lines(recorded.events).filter((line) => line.startsWith('Normal Pulling')).length;
    expect(pulls).toBeGreaterThan(2); // several attempts
    const firstFailure = reasons.indexOf('ErrImagePull');
    expect(firstFailure).toBeGreaterThan(0);
    expect(reasons.slice(0, firstFailure)).toContain('ContainerCreating');
    expect(new Set(reasons.slice(firstFailure))).toEqual(new Set(['ErrImagePull', 'ImagePullBackOff']));
  });

  it('private image without its pull secret: 401 Unauthorized', async () => {
    const { clock, recorded } = harness([{ name: 'billing', image: 'registry.acme.io/billing:v3' }]);
    await clock.advance(1_500);
    expect(recorded.events[1]?.message).toContain(
      'failed to fetch anonymous token: unexpected status from GET request to https://registry.acme.io/token?scope=repository%3Abilling%3Apull&service=registry.acme.io: 401 Unauthorized',
    );
  });

  it('private image with the named pull secret is pulled', async () => {
    const { clock, recorded } = harness([{ name: 'billing', image: 'registry.acme.io/billing:v3' }], {
      secrets: { regcred: ['.dockerconfigjson'] },
      spec: { imagePullSecrets: [{ name: 'regcred' }] },
    });
    await clock.advance(1_500);
    expect(lines(recorded.events)).toContain('Normal Started Started container billing');
  });

  it('missing ConfigMap and key: CreateContainerConfigError with the kubelet texts', async () => {
    const missingMap = harness([
      {
        name: 'api',
        image: 'ghcr.io/acme/api:v1.4.0',
        env: [{ name: 'MODE', valueFrom: { configMapKeyRef: { name: 'api-config', key: 'mode' } } }],
      },
    ]);
    await missingMap.clock.advance(25_000);
    expect(status0(missingMap.recorded).state.waiting).toEqual({
      reason: 'CreateContainerConfigError',
      message: 'configmap "api-config" not found',
    });
    const failures = missingMap.recorded.events.filter(
      (e) => e.message === 'Error: configmap "api-config" not found',
    );
    expect(failures.length).toBe(3);

    const missingKey = harness(
      [
        {
          name: 'db',
          image: 'ghcr.io/acme/api:v1.4.0',
          env: [{ name: 'PW', valueFrom: { secretKeyRef: { name: 'db-credentials', key: 'password' } } }],
        },
      ],
      { secrets: { 'db-credentials': ['username'] } },
    );
    await missingKey.clock.advance(1_500);
    expect(lines(missingKey.recorded.events)).toContain(
      "Warning Failed Error: couldn't find key password in Secret shop/db-credentials",
    );
  });

  it('missing ConfigMap volume: FailedMount, pod stays ContainerCreating', async () => {
    const { clock, recorded } = harness([{ name: 'api', image: 'ghcr.io/acme/api:v1.4.0' }], {
      spec: { volumes: [{ name: 'config', configMap: { name: 'api-config' } }] },
    });
    await clock.advance(125_000);
    expect(recorded.events[0]).toEqual({
      type: 'Warning',
      reason: 'FailedMount',
      message: 'MountVolume.SetUp failed for volume "config" : configmap "api-config" not found',
    });
    expect(lines(recorded.events)).toContain(
      'Warning FailedMount Unable to attach or mount volumes: unmounted volumes=[config], unattached volumes=[], failed to process volumes=[]: context deadline exceeded',
    );
    expect(status0(recorded).state.waiting.reason).toBe('ContainerCreating');
    expect(last(recorded).conditions[0]).toMatchObject({
      type: 'PodReadyToStartContainers',
      status: 'False',
    });
  });

  it('runAsNonRoot with a root image', async () => {
    const { clock, recorded } = harness([
      { name: 'agent', image: 'ghcr.io/acme/root:v1', securityContext: { runAsNonRoot: true } },
    ]);
    await clock.advance(1_500);
    expect(status0(recorded).state.waiting).toEqual({
      reason: 'CreateContainerConfigError',
      message: `container has runAsNonRoot and image will run as root (pod: "${REF}", container: agent)`,
    });
  });

  it('requiresEnv missing: crash log, exit 1, logs --previous show it', async () => {
    const { clock, recorded, machine } = harness([{ name: 'api', image: 'ghcr.io/acme/api:v1.5.0' }]);
    await clock.advance(4_000);
    expect(status0(recorded).lastState.terminated).toMatchObject({ reason: 'Error', exitCode: 1 });
    const previous = machine.logs('api', true);
    expect(previous.ok && previous.lines.map((l) => l.text)).toEqual([
      'FATAL missing required environment variable PAYMENTS_URL',
    ]);
  });

  it('a command the image does not have: StartError 128 and RunContainerError', async () => {
    const { clock, recorded } = harness([
      { name: 'api', image: 'ghcr.io/acme/api:v1.4.0', command: ['api-server'] },
    ]);
    await clock.advance(1_100);
    const error =
      'failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "api-server": executable file not found in $PATH: unknown';
    expect(lines(recorded.events)).toContain(`Warning Failed Error: ${error}`);
    expect(status0(recorded).lastState.terminated).toMatchObject({
      reason: 'StartError',
      exitCode: 128,
      message: error,
    });
  });

  it('liveness probe on the wrong port: Unhealthy x3, Killing, restart', async () => {
    const { clock, recorded } = harness([
      {
        name: 'api',
        image: 'ghcr.io/acme/api:v1.4.0',
        livenessProbe: {
          httpGet: { path: '/healthz', port: 8081 },
          initialDelaySeconds: 5,
          periodSeconds: 5,
          failureThreshold: 3,
        },
      },
    ]);
    await clock.advance(20_000);
    const messages = lines(recorded.events);
    expect(messages.filter((m) => m.startsWith('Warning Unhealthy'))).toEqual(
      Array(3).fill(
        'Warning Unhealthy Liveness probe failed: Get "http://10.244.1.2:8081/healthz": dial tcp 10.244.1.2:8081: connect: connection refused',
      ),
    );
    expect(messages).toContain('Normal Killing Container api failed liveness probe, will be restarted');
    expect(status0(recorded).restartCount).toBe(1);
    expect(status0(recorded).lastState.terminated).toMatchObject({ reason: 'Error', exitCode: 143 });
  });

  it('readiness probe on a wrong path: 404, Ready=False with the unready container named', async () => {
    const { clock, recorded } = harness([
      {
        name: 'api',
        image: 'ghcr.io/acme/api:v1.4.0',
        readinessProbe: {
          httpGet: { path: '/healthcheck', port: 8080 },
          initialDelaySeconds: 3,
          periodSeconds: 5,
        },
      },
    ]);
    await clock.advance(20_000);
    expect(lines(recorded.events)).toContain(
      'Warning Unhealthy Readiness probe failed: HTTP probe failed with statuscode: 404',
    );
    expect(last(recorded).conditions.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotReady',
      message: 'containers with unready status: [api]',
    });
    expect(status0(recorded).restartCount).toBe(0);
  });

  it('a batch container under restartPolicy Never ends the pod Failed', async () => {
    const { clock, recorded } = harness([{ name: 'job', image: 'ghcr.io/acme/batch:v1' }], {
      restartPolicy: 'Never',
    });
    await clock.advance(5_000);
    expect(last(recorded).phase).toBe('Failed');
    expect(status0(recorded).state.terminated).toMatchObject({ reason: 'Error', exitCode: 2 });
    expect(last(recorded).conditions.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'PodCompleted',
    });
  });

  it('graceful deletion: Killing "Stopping container", then the pod is removed', async () => {
    const { clock, recorded, machine, pod } = harness([{ name: 'api', image: 'ghcr.io/acme/api:v1.4.0' }]);
    await clock.advance(3_000);
    machine.update({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date() } });
    await clock.advance(10);
    expect(lines(recorded.events).at(-1)).toBe('Normal Killing Stopping container api');
    expect(recorded.terminated).toBe(1);
  });

  it('is deterministic: the same pod gives the same events and statuses', async () => {
    const run = async () => {
      const { clock, recorded } = harness([
        {
          name: 'api',
          image: 'ghcr.io/acme/api:v1.4.0',
          resources: { limits: { memory: '100Mi' } },
          livenessProbe: { tcpSocket: { port: 8080 } },
        },
      ]);
      await clock.advance(120_000);
      return { events: recorded.events, statuses: recorded.statuses };
    };
    expect(await run()).toEqual(await run());
  });

  it('runs init containers first (PodInitializing, Initialized=False), then the app', async () => {
    const { clock, recorded } = harness([{ name: 'api', image: 'ghcr.io/acme/api:v1.4.0' }], {
      spec: { initContainers: [{ name: 'migrate', image: 'ghcr.io/acme/migrate:v1' }] },
    });
    await clock.advance(100);
    expect(status0(recorded).state.waiting.reason).toBe('PodInitializing');
    expect(last(recorded).conditions.find((c) => c.type === 'Initialized')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotInitialized',
      message: 'containers with incomplete status: [migrate]',
    });
    await clock.advance(5_000);
    expect(recorded.events.map((e) => `${e.reason} ${e.fieldPath ?? ''}`)).toEqual([
      'Pulling spec.initContainers{migrate}',
      'Pulled spec.initContainers{migrate}',
      'Created spec.initContainers{migrate}',
      'Started spec.initContainers{migrate}',
      'Pulling spec.containers{api}',
      'Pulled spec.containers{api}',
      'Created spec.containers{api}',
      'Started spec.containers{api}',
    ]);
    expect(last(recorded).initContainerStatuses?.[0]).toMatchObject({
      state: { terminated: { reason: 'Completed', exitCode: 0 } },
    });
    expect(last(recorded).phase).toBe('Running');
  });

  it('restartPolicy OnFailure restarts a failing batch container in place', async () => {
    const { clock, recorded } = harness([{ name: 'job', image: 'ghcr.io/acme/batch:v1' }], {
      restartPolicy: 'OnFailure',
    });
    await clock.advance(4_000);
    expect(status0(recorded).restartCount).toBe(1);
    expect(last(recorded).phase).toBe('Running');
  });

  it('a startup probe gates liveness; its failures kill with the startup wording', async () => {
    const { clock, recorded } = harness([
      {
        name: 'api',
        image: 'ghcr.io/acme/api:v1.4.0',
        startupProbe: { tcpSocket: { port: 9090 }, periodSeconds: 2, failureThreshold: 2 },
        livenessProbe: { tcpSocket: { port: 9090 } },
      },
    ]);
    await clock.advance(5_000);
    const messages = lines(recorded.events);
    expect(messages).toContain(
      'Warning Unhealthy Startup probe failed: dial tcp 10.244.1.2:9090: connect: connection refused',
    );
    expect(messages).toContain('Normal Killing Container api failed startup probe, will be restarted');
    expect(messages.some((m) => m.includes('Liveness probe failed'))).toBe(false);
  });

  it('a throttled container answers slowly: probe timeouts', async () => {
    const { clock, recorded } = harness([
      {
        name: 'api',
        image: 'ghcr.io/acme/slow:v1',
        resources: { limits: { cpu: '200m' } },
        readinessProbe: {
          httpGet: { path: '/ready', port: 8080 },
          initialDelaySeconds: 3,
          timeoutSeconds: 1,
        },
      },
    ]);
    await clock.advance(5_000);
    expect(lines(recorded.events)).toContain(
      'Warning Unhealthy Readiness probe failed: Get "http://10.244.1.2:8080/ready": context deadline exceeded (Client.Timeout exceeded while awaiting headers)',
    );
  });

  it('env from a ConfigMap satisfies requiresEnv; FallbackToLogsOnError puts the log tail in the termination message', async () => {
    const fine = harness(
      [{ name: 'api', image: 'ghcr.io/acme/api:v1.5.0', envFrom: [{ configMapRef: { name: 'payments' } }] }],
      { configMaps: { payments: ['PAYMENTS_URL'] } },
    );
    await fine.clock.advance(5_000);
    expect(status0(fine.recorded).restartCount).toBe(0);

    const crashing = harness([
      { name: 'api', image: 'ghcr.io/acme/api:v1.5.0', terminationMessagePolicy: 'FallbackToLogsOnError' },
    ]);
    await crashing.clock.advance(2_000);
    expect(status0(crashing.recorded).lastState.terminated).toMatchObject({
      message: 'FATAL missing required environment variable PAYMENTS_URL',
    });
  });

  it('a referenced pull secret that does not exist is reported before the pull', async () => {
    const { clock, recorded } = harness([{ name: 'api', image: 'ghcr.io/acme/api:v1.4.0' }], {
      spec: { imagePullSecrets: [{ name: 'regcred' }] },
    });
    await clock.advance(10);
    expect(recorded.events[0]).toEqual({
      type: 'Warning',
      reason: 'FailedToRetrieveImagePullSecret',
      message:
        'Unable to retrieve some image pull secrets (regcred); attempting to pull the image may not succeed.',
    });
  });
});
