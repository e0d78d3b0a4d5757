// The deterministic life of one pod on a simulated node: volumes, sandbox, image pulls,
// config checks, create/start, the process's behaviour (from the world's image), probes,
// exits, restarts with back-off, and graceful deletion. Everything the kubelet would report
// goes to a PodSink as a status snapshot or an event; time comes from a Clock, so unit tests
// drive it with a ManualClock and get the same sequence every time.
import { createHash } from 'node:crypto';
import type { V1Container, V1Pod, V1Probe } from '@kubernetes/client-node';
import type { Clock, Timer } from './clock.js';
import {
  configMessages,
  kubeletMessages,
  logMessages,
  normalizeImage,
  podRef,
  runtimeMessages,
} from './messages.js';
import { runProbe } from './probes.js';
import { parseCpuMillicores, parseMemoryBytes } from '../../src/domain/quantity.js';
import { ImageSchema, realMs, type Image, type World } from './world.js';

export interface PodEvent {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
  /** `spec.containers{name}` / `spec.initContainers{name}` for container events. */
  readonly fieldPath?: string;
}

/** Where the machine's output goes: the pods/status subresource and core/v1 Events. */
export interface PodSink {
  status(status: MachineStatus): void;
  event(event: PodEvent): void;
  /** Every container has stopped after a deletion request: remove the pod object. */
  terminated(): void;
}

/** Reads of the objects the kubelet resolves (the simulator reads them live from the apiserver). */
export interface ConfigLookup {
  /** Keys of the ConfigMap (data and binaryData), or undefined when it does not exist. */
  configMap(namespace: string, name: string): Promise<ReadonlySet<string> | undefined>;
  secret(namespace: string, name: string): Promise<ReadonlySet<string> | undefined>;
}

export interface NodeRuntime {
  readonly name: string;
  readonly hostIP: string;
  /** Normalised references of the images present on the node. */
  readonly images: Set<string>;
  allocatePodIP(podUid: string): string;
  releasePodIP(podUid: string): void;
}

export interface MachineContext {
  readonly world: World;
  readonly clock: Clock;
  readonly sink: PodSink;
  readonly lookup: ConfigLookup;
  readonly node: NodeRuntime;
  /** Where unexpected errors of a running container go (a failed API read, a bug); default: ignored. */
  readonly log?: (message: string) => void;
}

export interface MachineCondition {
  type: string;
  status: 'True' | 'False';
  reason?: string;
  message?: string;
  lastTransitionTime: string;
  lastProbeTime: null;
  observedGeneration?: number;
}

export interface MachineStatus {
  phase: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  observedGeneration?: number;
  conditions: MachineCondition[];
  hostIP: string;
  hostIPs: Array<{ ip: string }>;
  podIP?: string;
  podIPs?: Array<{ ip: string }>;
  startTime: string;
  initContainerStatuses?: Record<string, unknown>[];
  containerStatuses: Record<string, unknown>[];
}

export interface ContainerUsage {
  readonly name: string;
  readonly startedAt: number;
  readonly cpuMillicores: number;
  readonly memoryBytes: number;
  readonly cpuLimitMillicores?: number;
  readonly memoryLimitBytes?: number;
  /** Share of CFS periods throttled (0 when the limit covers the demand). */
  readonly throttledRatio: number;
}

export type LogRead =
  | { readonly ok: true; readonly lines: readonly LogLine[] }
  | { readonly ok: false; readonly message: string };

export interface LogLine {
  readonly time: number;
  readonly text: string;
}

interface Terminated {
  reason: string;
  exitCode: number;
  message?: string;
  startedAt: number;
  finishedAt: number;
  containerID: string;
}

type ContainerState =
  | { kind: 'waiting'; reason: string; message?: string }
  | { kind: 'running'; startedAt: number }
  | ({ kind: 'terminated' } & Terminated);

interface ContainerRuntime {
  readonly spec: V1Container;
  readonly init: boolean;
  readonly sidecar: boolean;
  state: ContainerState;
  /** Terminated instances, oldest first (the last two are kept). */
  history: Terminated[];
  instances: number;
  ready: boolean;
  started: boolean;
  listening: boolean;
  containerID?: string;
  imageID?: string;
  imageRef?: string;
  /** Log lines per container ID (current and previous instance). */
  logs: Map<string, LogLine[]>;
  /** Called once, after the first start attempt (started or failed), so the next container may start. */
  attempted?: () => void;
  backoff?: { nominalSeconds: number; lastUpdate: number };
  pullBackoffSeconds?: number;
  done: boolean;
}

interface Exit {
  reason: string;
  exitCode: number;
}

/** Thrown into pending sleeps when the machine (or a container run) is stopped. */
class Stopped extends Error {
  override readonly name = 'Stopped';
}

/** A cancellable group of timers: one for the pod, one per container run. */
class Scope {
  ended = false;
  private readonly timers = new Set<Timer>();
  private readonly rejecters = new Set<(error: Error) => void>();

  private readonly children = new Set<Scope>();

  constructor(
    private readonly clock: Clock,
    parent?: Scope,
  ) {
    if (parent?.ended) this.ended = true;
    parent?.children.add(this);
  }

  sleep(ms: number): Promise<void> {
    if (this.ended) return Promise.reject(new Stopped());
    return new Promise<void>((resolve, reject) => {
      const timer = this.clock.setTimer(ms, () => {
        this.timers.delete(timer);
        this.rejecters.delete(reject);
        resolve();
      });
      this.timers.add(timer);
      this.rejecters.add(reject);
    });
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    for (const child of this.children) child.end();
    this.children.clear();
    for (const timer of this.timers) timer.cancel();
    for (const reject of this.rejecters) reject(new Stopped());
    this.timers.clear();
    this.rejecters.clear();
  }
}

const CONDITION_ORDER = ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady'] as const;

export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The default pull policy the apiserver fills in: Always for `latest` or untagged, else IfNotPresent. */
export function pullPolicyOf(container: V1Container): string {
  if (container.imagePullPolicy) return container.imagePullPolicy;
  const image = container.image ?? '';
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  if (image.includes('@')) return 'IfNotPresent';
  return !lastSegment.includes(':') || lastSegment.endsWith(':latest') ? 'Always' : 'IfNotPresent';
}

export class PodMachine {
  private readonly containers: ContainerRuntime[];
  private readonly scope: Scope;
  private readonly conditionTimes = new Map<string, { status: string; time: number }>();
  private readonly startTime: number;
  private podIP: string | undefined;
  private sandboxReady = false;
  private initialized = false;
  private deleting = false;
  private flushQueued = false;
  private pod: V1Pod;

  constructor(
    pod: V1Pod,
    private readonly context: MachineContext,
  ) {
    this.pod = pod;
    this.scope = new Scope(context.clock);
    this.startTime = context.clock.now();
    const initContainers = pod.spec?.initContainers ?? [];
    const hasInit = initContainers.some((c) => c.restartPolicy !== 'Always');
    const make = (spec: V1Container, init: boolean): ContainerRuntime => ({
      spec,
      init,
      sidecar: init && spec.restartPolicy === 'Always',
      // Until the sandbox and the init containers are done: PodInitializing with init containers, else ContainerCreating.
      state: { kind: 'waiting', reason: hasInit ? 'PodInitializing' : 'ContainerCreating' },
      history: [],
      instances: 0,
      ready: false,
      started: false,
      listening: false,
      logs: new Map(),
      done: false,
    });
    this.containers = [
      ...initContainers.map((c) => make(c, true)),
      ...(pod.spec?.containers ?? []).map((c) => make(c, false)),
    ];
    this.initialized = !hasInit;
  }

  get name(): string {
    return this.pod.metadata?.name ?? '';
  }
  get namespace(): string {
    return this.pod.metadata?.namespace ?? '';
  }
  get uid(): string {
    return this.pod.metadata?.uid ?? '';
  }
  private get ref(): string {
    return podRef({ name: this.name, namespace: this.namespace, uid: this.uid });
  }
  private get world(): World {
    return this.context.world;
  }

  /** Starts the pod's life; resolves when the pod reached a terminal phase or was stopped. */
  async run(): Promise<void> {
    this.flush();
    try {
      await this.mountVolumes();
      this.podIP = this.pod.spec?.hostNetwork
        ? this.context.node.hostIP
        : this.context.node.allocatePodIP(this.uid);
      this.sandboxReady = true;
      this.flush();
      const init = this.containers.filter((c) => c.init);
      for (const container of init) {
        if (container.sidecar) {
          const attempted = this.attemptSignal(container);
          void this.containerLoop(container).catch(ignoreStopped);
          await attempted;
          continue;
        }
        const exit = await this.containerLoop(container);
        if (exit.exitCode !== 0) {
          this.finish();
          return;
        }
      }
      this.initialized = true;
      for (const container of this.containers) {
        if (!container.init && container.state.kind === 'waiting')
          container.state = { kind: 'waiting', reason: 'ContainerCreating' };
      }
      this.flush();
      const loops: Promise<Exit>[] = [];
      // The kubelet starts a pod's containers one after the other in a sync; later ones run on their own.
      for (const container of this.containers.filter((c) => !c.init)) {
        const attempted = this.attemptSignal(container);
        const loop = this.containerLoop(container);
        loops.push(loop);
        await Promise.race([attempted, loop]);
      }
      await Promise.all(loops);
      this.finish();
    } catch (error) {
      ignoreStopped(error);
    }
  }

  private attemptSignal(container: ContainerRuntime): Promise<void> {
    return new Promise<void>((resolve) => {
      container.attempted = () => {
        container.attempted = undefined;
        resolve();
      };
    });
  }

  /** The apiserver's view changed (e.g. deletionTimestamp set). */
  update(pod: V1Pod): void {
    this.pod = pod;
    if (pod.metadata?.deletionTimestamp && !this.deleting) this.beginDeletion();
  }

  /** Stops all timers without reporting anything (simulator shutdown, node removal). */
  stop(): void {
    this.scope.end();
    this.context.node.releasePodIP(this.uid);
  }

  private beginDeletion(): void {
    this.deleting = true;
    this.scope.end();
    for (const container of this.containers) {
      if (container.state.kind !== 'running') continue;
      this.event('Normal', 'Killing', kubeletMessages.stopping(container.spec.name), container);
      const code = this.imageOf(container).termExitCode;
      this.terminate(container, { reason: code === 0 ? 'Completed' : 'Error', exitCode: code });
    }
    this.flush();
    this.context.node.releasePodIP(this.uid);
    this.context.sink.terminated();
  }

  // ---------------------------------------------------------------- volumes

  private async volumeErrors(): Promise<Array<{ volume: string; error: string }>> {
    const errors: Array<{ volume: string; error: string }> = [];
    const { lookup } = this.context;
    for (const volume of this.pod.spec?.volumes ?? []) {
      const sources: Array<{
        kind: 'configmap' | 'secret';
        name: string;
        optional: boolean;
        keys: string[];
      }> = [];
      if (volume.configMap) {
        sources.push({
          kind: 'configmap',
          name: volume.configMap.name ?? '',
          optional: volume.configMap.optional ?? false,
          keys: (volume.configMap.items ?? []).map((item) => item.key),
        });
      }
      if (volume.secret) {
        sources.push({
          kind: 'secret',
          name: volume.secret.secretName ?? '',
          optional: volume.secret.optional ?? false,
          keys: (volume.secret.items ?? []).map((item) => item.key),
        });
      }
      for (const projected of volume.projected?.sources ?? []) {
        if (projected.configMap) {
          sources.push({
            kind: 'configmap',
            name: projected.configMap.name ?? '',
            optional: projected.configMap.optional ?? false,
            keys: (projected.configMap.items ?? []).map((item) => item.key),
          });
        }
        if (projected.secret) {
          sources.push({
            kind: 'secret',
            name: projected.secret.name ?? '',
            optional: projected.secret.optional ?? false,
            keys: (projected.secret.items ?? []).map((item) => item.key),
          });
        }
      }
      for (const source of sources) {
        const keys =
          source.kind === 'configmap'
            ? await lookup.configMap(this.namespace, source.name)
            : await lookup.secret(this.namespace, source.name);
        if (!keys) {
          if (!source.optional) {
            errors.push({
              volume: volume.name,
              error:
                source.kind === 'configmap'
                  ? configMessages.configMapNotFound(source.name)
                  : configMessages.secretNotFound(source.name),
            });
            break;
          }
          continue;
        }
        const missing = source.keys.find((key) => !keys.has(key));
        if (missing !== undefined && !source.optional) {
          errors.push({
            volume: volume.name,
            error:
              source.kind === 'configmap'
                ? configMessages.configMapVolumeKeyMissing(missing)
                : configMessages.secretVolumeKeyMissing(missing),
          });
          break;
        }
      }
    }
    return errors;
  }

  /** The volume manager: retries with exponential back-off (0.5 s doubling to 2m2s), as the kubelet does. */
  private async mountVolumes(): Promise<void> {
    const { timing } = this.world;
    let delay = 0.5;
    let elapsed = 0;
    let nextTimeoutReport = timing.mountTimeoutSeconds;
    for (;;) {
      const errors = await this.volumeErrors();
      if (errors.length === 0) return;
      for (const { volume, error } of errors) {
        this.event('Warning', 'FailedMount', kubeletMessages.mountSetUpFailed(volume, error));
      }
      const step = Math.min(delay, Math.max(0.001, nextTimeoutReport - elapsed));
      await this.scope.sleep(realMs(timing, step));
      elapsed += step;
      if (elapsed >= nextTimeoutReport) {
        this.event(
          'Warning',
          'FailedMount',
          kubeletMessages.unableToMount(
            errors.map((e) => e.volume),
            this.world.wording,
          ),
        );
        nextTimeoutReport += timing.mountTimeoutSeconds;
      } else {
        delay = Math.min(delay * 2, 122);
      }
    }
  }

  // ---------------------------------------------------------------- containers

  imageOf(container: ContainerRuntime | V1Container): Image {
    const spec = 'spec' in container ? container.spec : container;
    const image = spec.image ?? '';
    return this.world.images[image] ?? this.world.images[normalizeImage(image)] ?? ImageSchema.parse({});
  }

  private restarts(container: ContainerRuntime, exit: Exit): boolean {
    const policy = this.pod.spec?.restartPolicy ?? 'Always';
    if (container.sidecar) return true;
    if (container.init) return exit.exitCode !== 0 && policy !== 'Never';
    if (policy === 'Always') return true;
    if (policy === 'OnFailure') return exit.exitCode !== 0;
    return false;
  }

  /** Start, run and restart one container until it ends for good (or the machine stops). */
  private async containerLoop(container: ContainerRuntime): Promise<Exit> {
    for (;;) {
      const outcome = await this.startAttempt(container);
      container.attempted?.();
      if (outcome === 'config-error') {
        await this.scope.sleep(realMs(this.world.timing, this.world.timing.syncRetrySeconds));
        continue;
      }
      const exit =
        outcome === 'start-error'
          ? { reason: 'StartError', exitCode: 128 }
          : await this.runContainer(container);
      if (!this.restarts(container, exit)) {
        container.done = true;
        this.flush();
        return exit;
      }
      await this.backOffBeforeRestart(container);
    }
  }

  private async startAttempt(
    container: ContainerRuntime,
  ): Promise<'started' | 'config-error' | 'start-error'> {
    await this.ensureImage(container);
    const configError = await this.configError(container);
    if (configError) {
      this.event('Warning', 'Failed', kubeletMessages.error(configError), container);
      this.setWaiting(container, 'CreateContainerConfigError', configError);
      return 'config-error';
    }
    container.instances += 1;
    container.containerID = `containerd://${sha256(`${this.uid}/${container.spec.name}/${container.instances}`)}`;
    const normalized = normalizeImage(container.spec.image ?? '');
    container.imageRef = normalized;
    container.imageID = `${normalized.replace(/[:@][^/]*$/, '')}@sha256:${sha256(normalized)}`;
    this.event(
      'Normal',
      'Created',
      kubeletMessages.created(container.spec.name, this.world.wording),
      container,
    );
    const badBinary = this.missingBinary(container);
    const now = this.context.clock.now();
    if (badBinary !== undefined) {
      const error = runtimeMessages.execNotFound(badBinary);
      this.event('Warning', 'Failed', kubeletMessages.error(error), container);
      this.remember(container, {
        reason: 'StartError',
        exitCode: 128,
        message: error,
        startedAt: 0,
        finishedAt: now,
        containerID: container.containerID,
      });
      container.state = { kind: 'waiting', reason: 'RunContainerError', message: error };
      container.started = false;
      this.flush();
      return 'start-error';
    }
    this.event('Normal', 'Started', kubeletMessages.started(container.spec.name), container);
    return 'started';
  }

  private missingBinary(container: ContainerRuntime): string | undefined {
    const binary = container.spec.command?.[0];
    if (binary === undefined) return undefined;
    const image = this.imageOf(container);
    const known = [image.entrypoint[0], ...image.binaries].filter((b): b is string => b !== undefined);
    const found = known.some(
      (candidate) => candidate === binary || (!binary.includes('/') && candidate.split('/').pop() === binary),
    );
    return found ? undefined : binary;
  }

  private async ensureImage(container: ContainerRuntime): Promise<void> {
    const image = container.spec.image ?? '';
    const normalized = normalizeImage(image);
    const { node } = this.context;
    const policy = pullPolicyOf(container.spec);
    if (policy !== 'Always' && node.images.has(normalized)) {
      this.event('Normal', 'Pulled', kubeletMessages.alreadyPresent(image), container);
      return;
    }
    const { timing } = this.world;
    for (;;) {
      const secretNames = (this.pod.spec?.imagePullSecrets ?? []).map((s) => s.name ?? '').filter(Boolean);
      const present: string[] = [];
      const missing: string[] = [];
      for (const name of secretNames) {
        ((await this.context.lookup.secret(this.namespace, name)) ? present : missing).push(name);
      }
      if (missing.length > 0)
        this.event('Warning', 'FailedToRetrieveImagePullSecret', kubeletMessages.pullSecretMissing(missing));
      this.event('Normal', 'Pulling', kubeletMessages.pulling(image), container);
      // A retry keeps the last failure's reason (ErrImagePull / ImagePullBackOff), as the kubelet's
      // status does: only the first attempt waits as ContainerCreating.
      if (container.pullBackoffSeconds === undefined)
        this.setWaiting(container, container.init ? 'PodInitializing' : 'ContainerCreating');
      const info = this.imageOf(container);
      await this.scope.sleep(realMs(timing, info.pullSeconds));
      const requiredSecret = this.world.privateImages[image] ?? this.world.privateImages[normalized];
      const exists =
        this.world.images[image] !== undefined ||
        this.world.images[normalized] !== undefined ||
        requiredSecret !== undefined;
      const error = !exists
        ? runtimeMessages.notFound(normalized)
        : requiredSecret !== undefined && !present.includes(requiredSecret)
          ? runtimeMessages.unauthorized(normalized)
          : undefined;
      if (error === undefined) {
        node.images.add(normalized);
        container.pullBackoffSeconds = undefined;
        this.event(
          'Normal',
          'Pulled',
          kubeletMessages.pulled(image, info.pullSeconds * 1000, info.size),
          container,
        );
        return;
      }
      this.event('Warning', 'Failed', kubeletMessages.failedToPull(image, error), container);
      this.event('Warning', 'Failed', kubeletMessages.error('ErrImagePull'), container);
      this.setWaiting(container, 'ErrImagePull', error);
      container.attempted?.();
      const backoff =
        container.pullBackoffSeconds === undefined
          ? timing.imageBackoffInitialSeconds
          : Math.min(container.pullBackoffSeconds * 2, timing.imageBackoffMaxSeconds);
      container.pullBackoffSeconds = backoff;
      // The next pod sync finds the image in back-off and says so until the back-off expires.
      let waited = Math.min(1, backoff);
      await this.scope.sleep(realMs(timing, waited));
      while (waited < backoff) {
        this.event('Normal', 'BackOff', kubeletMessages.backOffPulling(image), container);
        this.event('Warning', 'Failed', kubeletMessages.error('ImagePullBackOff'), container);
        this.setWaiting(
          container,
          'ImagePullBackOff',
          kubeletMessages.imagePullBackOffWaiting(image, error, this.world.wording),
        );
        const step = Math.min(timing.syncRetrySeconds, backoff - waited);
        await this.scope.sleep(realMs(timing, step));
        waited += step;
      }
    }
  }

  /** Names of the container's environment variables, and the first reference error (kubelet order: envFrom, then env). */
  private async environment(container: ContainerRuntime): Promise<{ names: Set<string>; error?: string }> {
    const { lookup } = this.context;
    const names = new Set<string>();
    for (const source of container.spec.envFrom ?? []) {
      if (source.configMapRef) {
        const keys = await lookup.configMap(this.namespace, source.configMapRef.name ?? '');
        if (!keys) {
          if (!source.configMapRef.optional)
            return { names, error: configMessages.configMapNotFound(source.configMapRef.name ?? '') };
          continue;
        }
        for (const key of keys) names.add(`${source.prefix ?? ''}${key}`);
      }
      if (source.secretRef) {
        const keys = await lookup.secret(this.namespace, source.secretRef.name ?? '');
        if (!keys) {
          if (!source.secretRef.optional)
            return { names, error: configMessages.secretNotFound(source.secretRef.name ?? '') };
          continue;
        }
        for (const key of keys) names.add(`${source.prefix ?? ''}${key}`);
      }
    }
    for (const variable of container.spec.env ?? []) {
      const from = variable.valueFrom;
      if (from?.configMapKeyRef) {
        const { name = '', key, optional } = from.configMapKeyRef;
        const keys = await lookup.configMap(this.namespace, name);
        if (!keys) {
          if (!optional) return { names, error: configMessages.configMapNotFound(name) };
          continue;
        }
        if (!keys.has(key)) {
          if (!optional)
            return { names, error: configMessages.configMapKeyMissing(key, this.namespace, name) };
          continue;
        }
      } else if (from?.secretKeyRef) {
        const { name = '', key, optional } = from.secretKeyRef;
        const keys = await lookup.secret(this.namespace, name);
        if (!keys) {
          if (!optional) return { names, error: configMessages.secretNotFound(name) };
          continue;
        }
        if (!keys.has(key)) {
          if (!optional) return { names, error: configMessages.secretKeyMissing(key, this.namespace, name) };
          continue;
        }
      }
      names.add(variable.name);
    }
    return { names };
  }

  private async configError(container: ContainerRuntime): Promise<string | undefined> {
    const { error } = await this.environment(container);
    if (error) return error;
    const podContext = this.pod.spec?.securityContext;
    const own = container.spec.securityContext;
    const runAsNonRoot = own?.runAsNonRoot ?? podContext?.runAsNonRoot ?? false;
    if (!runAsNonRoot) return undefined;
    const uid = own?.runAsUser ?? podContext?.runAsUser;
    if (uid !== undefined)
      return uid === 0 ? configMessages.runAsUserRoot(this.ref, container.spec.name) : undefined;
    const user = (this.imageOf(container).user.split(':')[0] ?? '').trim();
    if (user === '' || user === '0') return configMessages.runAsNonRootRoot(this.ref, container.spec.name);
    if (!/^\d+$/.test(user))
      return configMessages.runAsNonRootNonNumeric(user, this.ref, container.spec.name);
    return undefined;
  }

  private limits(container: ContainerRuntime): { memory?: number; cpu?: number } {
    const limits = container.spec.resources?.limits ?? {};
    return { memory: parseMemoryBytes(limits['memory']), cpu: parseCpuMillicores(limits['cpu']) };
  }

  /** Runs one instance of the container; resolves with how it ended. */
  private async runContainer(container: ContainerRuntime): Promise<Exit> {
    const { clock } = this.context;
    const image = this.imageOf(container);
    const startedAt = clock.now();
    const logs: LogLine[] = [];
    container.logs.set(container.containerID ?? '', logs);
    container.state = { kind: 'running', startedAt };
    container.listening = false;
    const hasStartup = container.spec.startupProbe !== undefined;
    container.started = !hasStartup;
    container.ready = !hasStartup && container.spec.readinessProbe === undefined && !container.init;
    for (const text of image.logs) logs.push({ time: startedAt, text });
    this.flush();

    const run = new Scope(clock, this.scope);
    const exit = new Promise<Exit>((resolve) => {
      const finish = (result: Exit, lines: readonly string[] = []): void => {
        if (run.ended) return;
        run.end();
        for (const text of lines) logs.push({ time: clock.now(), text });
        this.terminate(container, result);
        resolve(result);
      };
      void (async () => {
        const { names } = await this.environment(container);
        const missingEnv = image.requiresEnv.filter((name) => !names.has(name));
        const memoryLimit = this.limits(container).memory;
        const oom = memoryLimit !== undefined && memoryLimit < (parseMemoryBytes(image.memory) ?? 0);
        try {
          if (missingEnv.length > 0) {
            await this.sleepIn(run, Math.min(image.runSeconds, 1));
            const lines =
              image.crashLog ??
              missingEnv.map((name) => `FATAL missing required environment variable ${name}`);
            finish({ reason: 'Error', exitCode: image.crashExitCode }, lines);
          } else if (oom) {
            await this.sleepIn(run, image.oomAfterSeconds);
            finish({ reason: 'OOMKilled', exitCode: 137 });
          } else if (image.exitCode !== undefined) {
            await this.sleepIn(run, image.runSeconds);
            const code = image.exitCode;
            finish(
              { reason: code === 0 ? 'Completed' : 'Error', exitCode: code },
              code === 0 ? [] : (image.crashLog ?? []),
            );
          } else {
            await this.sleepIn(run, image.startSeconds);
            container.listening = true;
          }
        } catch (error) {
          if (!(error instanceof Stopped))
            this.context.log?.(
              `pod ${this.namespace}/${this.name} container ${container.spec.name}: ${String(error)}`,
            );
        }
      })();
      const probes: Array<[V1Probe | undefined, 'Startup' | 'Liveness' | 'Readiness']> = [
        [container.spec.startupProbe, 'Startup'],
        [container.spec.livenessProbe, 'Liveness'],
        [container.spec.readinessProbe, 'Readiness'],
      ];
      for (const [probe, kind] of probes) {
        if (probe && !(container.init && !container.sidecar)) {
          void this.probeLoop(container, probe, kind, run, (killMessage) => {
            this.event('Normal', 'Killing', killMessage, container);
            finish({
              reason: image.termExitCode === 0 ? 'Completed' : 'Error',
              exitCode: image.termExitCode,
            });
          }).catch(ignoreStopped);
        }
      }
    });
    return exit;
  }

  private sleepIn(scope: Scope, nominalSeconds: number): Promise<void> {
    return scope.sleep(realMs(this.world.timing, nominalSeconds));
  }

  private async probeLoop(
    container: ContainerRuntime,
    probe: V1Probe,
    kind: 'Startup' | 'Liveness' | 'Readiness',
    run: Scope,
    kill: (message: string) => void,
  ): Promise<void> {
    const period = probe.periodSeconds ?? 10;
    const failureThreshold = probe.failureThreshold ?? 3;
    const successThreshold = probe.successThreshold ?? 1;
    let failures = 0;
    let successes = 0;
    await this.sleepIn(run, Math.max(probe.initialDelaySeconds ?? 0, 1));
    for (;;) {
      if (kind === 'Startup' && container.started) return;
      if (kind !== 'Startup' && !container.started) {
        await this.sleepIn(run, period);
        continue;
      }
      const result = runProbe(probe, {
        container: container.spec,
        image: this.imageOf(container),
        podIP: this.podIP ?? this.context.node.hostIP,
        listening: container.listening,
        slowdown: this.slowdown(container),
      });
      if (result.ok) {
        failures = 0;
        successes += 1;
        if (kind === 'Startup') {
          container.started = true;
          if (!container.spec.readinessProbe) container.ready = true;
          this.flush();
          return;
        }
        if (kind === 'Readiness' && successes >= successThreshold && !container.ready) {
          container.ready = true;
          this.flush();
        }
      } else {
        successes = 0;
        failures += 1;
        this.event('Warning', 'Unhealthy', kubeletMessages.probeFailed(kind, result.output), container);
        if (kind === 'Readiness' && failures >= failureThreshold && container.ready) {
          container.ready = false;
          this.flush();
        }
        if (kind !== 'Readiness' && failures >= failureThreshold) {
          kill(
            kind === 'Liveness'
              ? kubeletMessages.livenessKill(container.spec.name)
              : kubeletMessages.startupKill(container.spec.name),
          );
          return;
        }
      }
      await this.sleepIn(run, period);
    }
  }

  private slowdown(container: ContainerRuntime): number {
    const limit = this.limits(container).cpu;
    const demand = parseCpuMillicores(this.imageOf(container).cpu) ?? 0;
    return limit !== undefined && limit > 0 && demand > limit ? demand / limit : 1;
  }

  private terminate(container: ContainerRuntime, exit: Exit): void {
    const now = this.context.clock.now();
    const startedAt = container.state.kind === 'running' ? container.state.startedAt : now;
    const policy = container.spec.terminationMessagePolicy;
    const lines = container.logs.get(container.containerID ?? '') ?? [];
    const message =
      policy === 'FallbackToLogsOnError' && exit.exitCode !== 0
        ? lines
            .slice(-80)
            .map((l) => l.text)
            .join('\n')
            .slice(-2048)
        : undefined;
    const terminated: Terminated = {
      reason: exit.reason,
      exitCode: exit.exitCode,
      ...(message ? { message } : {}),
      startedAt,
      finishedAt: now,
      containerID: container.containerID ?? '',
    };
    container.state = { kind: 'terminated', ...terminated };
    this.remember(container, terminated);
    container.ready = false;
    container.started = false;
    container.listening = false;
    this.flush();
  }

  private remember(container: ContainerRuntime, terminated: Terminated): void {
    container.history.push(terminated);
    while (container.history.length > 2) {
      const dropped = container.history.shift();
      if (dropped) container.logs.delete(dropped.containerID);
    }
  }

  /** The most recent terminated instance before the current one (status lastState, logs --previous). */
  private previousInstance(container: ContainerRuntime): Terminated | undefined {
    const { history, state } = container;
    return state.kind === 'terminated' ? history[history.length - 2] : history[history.length - 1];
  }

  /** The kubelet's crash-loop back-off: first restart at once, then 10 s doubling to 5m0s. */
  private async backOffBeforeRestart(container: ContainerRuntime): Promise<void> {
    const { clock } = this.context;
    const { timing } = this.world;
    const now = clock.now();
    const entry = container.backoff;
    const expired =
      entry !== undefined && now - entry.lastUpdate > 2 * realMs(timing, timing.backoffMaxSeconds);
    if (entry === undefined || expired) {
      container.backoff = { nominalSeconds: timing.backoffInitialSeconds, lastUpdate: now };
      return;
    }
    const backoff = entry.nominalSeconds;
    const message = kubeletMessages.crashLoopWaiting(backoff * 1000, container.spec.name, this.ref);
    let waited = 0;
    while (waited < backoff) {
      this.setWaiting(container, 'CrashLoopBackOff', message);
      this.event(
        'Warning',
        'BackOff',
        kubeletMessages.backOffRestarting(container.spec.name, this.ref),
        container,
      );
      const step = Math.min(timing.syncRetrySeconds, backoff - waited);
      await this.scope.sleep(realMs(timing, step));
      waited += step;
    }
    container.backoff = {
      nominalSeconds: Math.min(backoff * 2, timing.backoffMaxSeconds),
      lastUpdate: clock.now(),
    };
  }

  private setWaiting(container: ContainerRuntime, reason: string, message?: string): void {
    container.state = { kind: 'waiting', reason, ...(message !== undefined ? { message } : {}) };
    container.ready = false;
    container.started = false;
    this.flush();
  }

  private finish(): void {
    this.flush();
    this.context.node.releasePodIP(this.uid);
  }

  // ---------------------------------------------------------------- reporting

  private event(type: PodEvent['type'], reason: string, message: string, container?: ContainerRuntime): void {
    if (this.deleting && reason !== 'Killing') return;
    const fieldPath = container
      ? `spec.${container.init ? 'initContainers' : 'containers'}{${container.spec.name}}`
      : undefined;
    this.context.sink.event({ type, reason, message, ...(fieldPath ? { fieldPath } : {}) });
  }

  /** Coalesces state changes of one turn into one status snapshot. */
  private flush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      this.context.sink.status(this.status());
    });
  }

  phase(): MachineStatus['phase'] {
    const initContainers = this.containers.filter((c) => c.init && !c.sidecar);
    const policy = this.pod.spec?.restartPolicy ?? 'Always';
    if (initContainers.some((c) => c.done && (c.history[c.history.length - 1]?.exitCode ?? 0) !== 0))
      return 'Failed';
    if (!this.initialized) return 'Pending';
    let waiting = 0;
    let running = 0;
    let stopped = 0;
    let succeeded = 0;
    for (const container of this.containers.filter((c) => !c.init)) {
      if (container.state.kind === 'running') running += 1;
      else if (container.state.kind === 'terminated') {
        stopped += 1;
        if (container.state.exitCode === 0) succeeded += 1;
      } else if (container.history.length > 0) stopped += 1;
      else waiting += 1;
    }
    if (waiting > 0) return 'Pending';
    if (running > 0) return 'Running';
    if (stopped > 0) {
      if (policy === 'Always') return 'Running';
      if (policy === 'OnFailure') return stopped === succeeded ? 'Succeeded' : 'Running';
      return stopped === succeeded ? 'Succeeded' : 'Failed';
    }
    return 'Pending';
  }

  private condition(
    type: string,
    status: 'True' | 'False',
    reason?: string,
    message?: string,
  ): MachineCondition {
    const now = this.context.clock.now();
    const previous = this.conditionTimes.get(type);
    const time = previous && previous.status === status ? previous.time : now;
    this.conditionTimes.set(type, { status, time });
    const generation = this.pod.metadata?.generation;
    return {
      type,
      status,
      ...(reason ? { reason } : {}),
      ...(message ? { message } : {}),
      lastProbeTime: null,
      lastTransitionTime: rfc3339(time),
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
    };
  }

  status(): MachineStatus {
    const phase = this.phase();
    const completed = phase === 'Succeeded' || phase === 'Failed';
    const app = this.containers.filter((c) => !c.init);
    const init = this.containers.filter((c) => c.init);
    const unready = app.filter((c) => !c.ready).map((c) => c.spec.name);
    const incompleteInit = init
      .filter((c) => !c.sidecar && !(c.done && c.history[c.history.length - 1]?.exitCode === 0))
      .map((c) => c.spec.name);
    const conditions: Record<(typeof CONDITION_ORDER)[number], MachineCondition> = {
      PodReadyToStartContainers: this.condition(
        'PodReadyToStartContainers',
        this.sandboxReady && !completed ? 'True' : 'False',
      ),
      Initialized: this.initialized
        ? this.condition('Initialized', 'True')
        : this.condition(
            'Initialized',
            'False',
            'ContainersNotInitialized',
            kubeletMessages.containersNotInitialized(incompleteInit),
          ),
      Ready: completed
        ? this.condition('Ready', 'False', 'PodCompleted')
        : unready.length === 0
          ? this.condition('Ready', 'True')
          : this.condition(
              'Ready',
              'False',
              'ContainersNotReady',
              kubeletMessages.containersNotReady(unready),
            ),
      ContainersReady: completed
        ? this.condition('ContainersReady', 'False', 'PodCompleted')
        : unready.length === 0
          ? this.condition('ContainersReady', 'True')
          : this.condition(
              'ContainersReady',
              'False',
              'ContainersNotReady',
              kubeletMessages.containersNotReady(unready),
            ),
    };
    const generation = this.pod.metadata?.generation;
    const status: MachineStatus = {
      phase,
      ...(generation !== undefined ? { observedGeneration: generation } : {}),
      conditions: CONDITION_ORDER.map((type) => conditions[type]),
      hostIP: this.context.node.hostIP,
      hostIPs: [{ ip: this.context.node.hostIP }],
      startTime: rfc3339(this.startTime),
      containerStatuses: app.map((c) => this.containerStatus(c)),
    };
    if (this.podIP) {
      status.podIP = this.podIP;
      status.podIPs = [{ ip: this.podIP }];
    }
    if (init.length > 0) status.initContainerStatuses = init.map((c) => this.containerStatus(c));
    return status;
  }

  private containerStatus(container: ContainerRuntime): Record<string, unknown> {
    const terminated = (t: Terminated): Record<string, unknown> => ({
      exitCode: t.exitCode,
      reason: t.reason,
      ...(t.message ? { message: t.message } : {}),
      startedAt: t.startedAt ? rfc3339(t.startedAt) : null,
      finishedAt: rfc3339(t.finishedAt),
      containerID: t.containerID,
    });
    const { state } = container;
    const previous = this.previousInstance(container);
    const latest = container.history[container.history.length - 1];
    return {
      name: container.spec.name,
      image: container.imageRef ?? container.spec.image ?? '',
      imageID: container.imageID ?? '',
      ...(state.kind !== 'waiting' && container.containerID ? { containerID: container.containerID } : {}),
      ...(state.kind === 'waiting' && latest ? { containerID: latest.containerID } : {}),
      ready: container.ready,
      started: container.started,
      restartCount: Math.max(0, container.instances - 1),
      state:
        state.kind === 'running'
          ? { running: { startedAt: rfc3339(state.startedAt) } }
          : state.kind === 'terminated'
            ? { terminated: terminated(state) }
            : {
                waiting: {
                  reason: state.reason,
                  ...(state.message !== undefined ? { message: state.message } : {}),
                },
              },
      lastState: previous ? { terminated: terminated(previous) } : {},
      ...(container.spec.resources && Object.keys(container.spec.resources).length > 0
        ? { resources: container.spec.resources }
        : {}),
      ...(container.spec.volumeMounts?.length
        ? {
            volumeMounts: container.spec.volumeMounts.map((m) => ({
              name: m.name,
              mountPath: m.mountPath,
              ...(m.readOnly ? { readOnly: true, recursiveReadOnly: 'Disabled' } : {}),
            })),
          }
        : {}),
    };
  }

  // ---------------------------------------------------------------- kubelet API views

  /** What the kubelet's containerLogs handler returns (kubelet_pods.go validateContainerLogStatus). */
  logs(containerName: string, previous: boolean): LogRead {
    const container = this.containers.find((c) => c.spec.name === containerName);
    if (!container) return { ok: false, message: logMessages.noContainer(containerName, this.name) };
    const { state } = container;
    let containerID: string | undefined;
    if (previous) {
      containerID = this.previousInstance(container)?.containerID;
      if (containerID === undefined)
        return { ok: false, message: logMessages.previousNotFound(containerName, this.name) };
    } else if (state.kind === 'waiting') {
      containerID = container.history[container.history.length - 1]?.containerID;
      if (containerID === undefined)
        return { ok: false, message: logMessages.waiting(containerName, this.name, state.reason) };
    } else {
      containerID = container.containerID;
    }
    return { ok: true, lines: container.logs.get(containerID ?? '') ?? [] };
  }

  usage(): ContainerUsage[] {
    const out: ContainerUsage[] = [];
    for (const container of this.containers) {
      if (container.state.kind !== 'running') continue;
      const image = this.imageOf(container);
      const limits = this.limits(container);
      const demand = parseCpuMillicores(image.cpu) ?? 0;
      const cpu = limits.cpu !== undefined ? Math.min(demand, limits.cpu) : demand;
      // A cgroup's working set cannot exceed its memory limit: the kernel OOM-kills it at the limit.
      const memoryDemand = parseMemoryBytes(image.memory) ?? 0;
      const memory = limits.memory !== undefined ? Math.min(memoryDemand, limits.memory) : memoryDemand;
      out.push({
        name: container.spec.name,
        startedAt: container.state.startedAt,
        cpuMillicores: cpu,
        memoryBytes: memory,
        ...(limits.cpu !== undefined ? { cpuLimitMillicores: limits.cpu } : {}),
        ...(limits.memory !== undefined ? { memoryLimitBytes: limits.memory } : {}),
        throttledRatio:
          limits.cpu !== undefined && demand > limits.cpu
            ? Math.round((1 - limits.cpu / demand) * 1000) / 1000
            : 0,
      });
    }
    return out;
  }
}

function ignoreStopped(error: unknown): void {
  if (error instanceof Stopped) return;
  throw error;
}
