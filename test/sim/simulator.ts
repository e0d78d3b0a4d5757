// The simulator process: reads the world (ConfigMap kubemend-sim/world), registers its Nodes,
// serves their kubelet APIs and the metrics.k8s.io API, provisions volumes, and runs a
// PodMachine for every pod the real scheduler binds to a simulated node.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:https';
import * as k8s from '@kubernetes/client-node';
import type {
  KubernetesObject,
  V1ConfigMap,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1Pod,
} from '@kubernetes/client-node';
import { realClock } from './clock.js';
import { EventRecorder, describeError } from './events.js';
import {
  kubeletServer,
  listen,
  metricsApiServer,
  type KubeletBackend,
  type TlsMaterial,
} from './kubelet-server.js';
import type { NodeUsage, PodUsage } from './metrics.js';
import { NodeManager, type SimNode } from './nodes.js';
import { PodMachine, type ConfigLookup, type MachineStatus, type PodSink } from './pod-machine.js';
import { Provisioner } from './provisioner.js';
import { parseMemoryBytes } from '../../src/domain/quantity.js';
import { parseWorldYaml, readDefaultWorldDocument, type World } from './world.js';
import { stringify as stringifyYaml } from 'yaml';

export const SIM_NAMESPACE = 'kubemend-sim';
export const WORLD_CONFIGMAP = 'world';
export const WORLD_KEY = 'world.yaml';
export const STATUS_CONFIGMAP = 'world-status';
export const METRICS_SERVICE = 'kubemend-sim-metrics';

export interface SimulatorOptions {
  readonly kubeconfig: k8s.KubeConfig;
  readonly pkiDir: string;
  readonly kubeletPortBase: number;
  readonly metricsPort: number;
  readonly log: (message: string) => void;
}

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
const TERMINAL = new Set(['Succeeded', 'Failed']);

interface PodEntry {
  pod: V1Pod;
  machine: PodMachine;
  node: SimNode;
  sink: ClusterPodSink;
}

/** Sends a machine's status snapshots (latest wins) and events to the apiserver, then deletes the pod when told. */
class ClusterPodSink implements PodSink {
  private latest: MachineStatus | undefined;
  private pumping = false;
  private deleteRequested = false;
  private closed = false;

  constructor(
    private readonly entry: () => PodEntry | undefined,
    private readonly core: k8s.CoreV1Api,
    private readonly recorder: EventRecorder,
    private readonly podRef: { namespace: string; name: string; uid: string },
    private readonly log: (message: string) => void,
  ) {}

  status(status: MachineStatus): void {
    if (this.closed) return;
    this.latest = status;
    void this.pump();
  }

  event(event: { type: 'Normal' | 'Warning'; reason: string; message: string; fieldPath?: string }): void {
    if (this.closed) return;
    const pod = this.entry()?.pod;
    void this.recorder.record({
      type: event.type,
      reason: event.reason,
      message: event.message,
      involvedObject: {
        kind: 'Pod',
        namespace: this.podRef.namespace,
        name: this.podRef.name,
        uid: this.podRef.uid,
        apiVersion: 'v1',
        ...(pod?.metadata?.resourceVersion ? { resourceVersion: pod.metadata.resourceVersion } : {}),
        ...(event.fieldPath ? { fieldPath: event.fieldPath } : {}),
      },
    });
  }

  terminated(): void {
    this.deleteRequested = true;
    void this.pump();
  }

  close(): void {
    this.closed = true;
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.latest && !this.closed) {
        const status = this.latest;
        this.latest = undefined;
        await this.patch(status);
      }
      if (this.deleteRequested && !this.closed) {
        this.closed = true;
        await this.recorder.flushed();
        try {
          await this.core.deleteNamespacedPod({
            name: this.podRef.name,
            namespace: this.podRef.namespace,
            gracePeriodSeconds: 0,
            body: { gracePeriodSeconds: 0, preconditions: { uid: this.podRef.uid } },
          });
        } catch (error) {
          if (!(error instanceof k8s.ApiException && (error.code === 404 || error.code === 409))) {
            this.log(`deleting pod ${this.podRef.namespace}/${this.podRef.name}: ${describeError(error)}`);
          }
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private async patch(status: MachineStatus): Promise<void> {
    const current = this.entry()?.pod.status?.conditions ?? [];
    const owned = new Set(status.conditions.map((c) => c.type));
    const conditions = [...current.filter((c) => !owned.has(c.type)), ...status.conditions];
    try {
      await this.core.patchNamespacedPodStatus(
        {
          name: this.podRef.name,
          namespace: this.podRef.namespace,
          body: { status: { ...status, conditions } },
        },
        mergePatch,
      );
    } catch (error) {
      if (error instanceof k8s.ApiException && error.code === 404) {
        this.closed = true;
        return;
      }
      this.log(`status of ${this.podRef.namespace}/${this.podRef.name}: ${describeError(error)}`);
    }
  }
}

export class Simulator implements KubeletBackend {
  private readonly core: k8s.CoreV1Api;
  private readonly nodes: NodeManager;
  private readonly provisioner: Provisioner;
  private readonly entries = new Map<string, PodEntry>();
  private readonly recorders = new Map<string, EventRecorder>();
  private readonly servers = new Map<string, Server>();
  private readonly informers: Array<k8s.Informer<KubernetesObject>> = [];
  private metricsServer: Server | undefined;
  private world: World | undefined;
  private worldQueue: Promise<void> = Promise.resolve();
  private appliedVersion = '';
  private stopped = false;
  private readonly tls: TlsMaterial;
  private readonly startedAt = Date.now();

  constructor(private readonly options: SimulatorOptions) {
    const kc = options.kubeconfig;
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.nodes = new NodeManager(
      this.core,
      kc.makeApiClient(k8s.CoordinationV1Api),
      options.kubeletPortBase,
      options.log,
    );
    this.provisioner = new Provisioner(this.core, kc.makeApiClient(k8s.StorageV1Api), options.log);
    this.tls = {
      cert: readFileSync(join(options.pkiDir, 'kubelet-serving.crt')),
      key: readFileSync(join(options.pkiDir, 'kubelet-serving.key')),
      ca: readFileSync(join(options.pkiDir, 'ca.crt')),
    };
  }

  async start(): Promise<void> {
    await this.ensureNamespaceAndWorld();
    await this.startMetricsApi();
    const cm = await this.core.readNamespacedConfigMap({ name: WORLD_CONFIGMAP, namespace: SIM_NAMESPACE });
    await this.applyWorld(cm);
    this.watch<V1ConfigMap>(
      `/api/v1/namespaces/${SIM_NAMESPACE}/configmaps`,
      () => this.core.listNamespacedConfigMap({ namespace: SIM_NAMESPACE }),
      (cm) => {
        if (cm.metadata?.name === WORLD_CONFIGMAP)
          this.worldQueue = this.worldQueue.then(() => this.applyWorld(cm));
      },
    );
    this.watch<V1Pod>(
      '/api/v1/pods',
      () => this.core.listPodForAllNamespaces(),
      (pod) => this.onPod(pod),
      (pod) => this.onPodDeleted(pod),
    );
    this.watch<V1PersistentVolumeClaim>(
      '/api/v1/persistentvolumeclaims',
      () => this.core.listPersistentVolumeClaimForAllNamespaces(),
      (claim) => void this.provisioner.onClaim(claim),
    );
    this.watch<V1PersistentVolume>(
      '/api/v1/persistentvolumes',
      () => this.core.listPersistentVolume(),
      (volume) => void this.provisioner.onVolume(volume),
    );
    this.nodes.startHeartbeats();
    this.options.log(
      `simulator ready: ${this.nodes.nodes.size} node(s), metrics.k8s.io on 127.0.0.1:${this.options.metricsPort}`,
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.nodes.stop();
    for (const informer of this.informers) await informer.stop().catch(() => undefined);
    for (const entry of this.entries.values()) {
      entry.sink.close();
      entry.machine.stop();
    }
    this.entries.clear();
    const closing = [...this.servers.values(), ...(this.metricsServer ? [this.metricsServer] : [])].map(
      (server) => new Promise<void>((resolve) => server.close(() => resolve())),
    );
    for (const server of this.servers.values()) server.closeAllConnections();
    this.metricsServer?.closeAllConnections();
    await Promise.all(closing);
  }

  private watch<T extends KubernetesObject>(
    path: string,
    list: () => Promise<k8s.KubernetesListObject<T>>,
    onChange: (object: T) => void,
    onDelete?: (object: T) => void,
  ): void {
    const informer = k8s.makeInformer<T>(this.options.kubeconfig, path, list);
    informer.on('add', onChange);
    informer.on('update', onChange);
    if (onDelete) informer.on('delete', onDelete);
    informer.on('error', (error: unknown) => {
      if (this.stopped) return;
      this.options.log(`watch ${path} failed (${describeError(error)}); restarting in 1 s`);
      setTimeout(() => void informer.start().catch(() => undefined), 1000);
    });
    this.informers.push(informer as unknown as k8s.Informer<KubernetesObject>);
    void informer.start();
  }

  // ---------------------------------------------------------------- world

  private async ensureNamespaceAndWorld(): Promise<void> {
    try {
      await this.core.createNamespace({
        body: { metadata: { name: SIM_NAMESPACE, labels: { 'kubemend.io/simulation': 'true' } } },
      });
    } catch (error) {
      if (!(error instanceof k8s.ApiException && error.code === 409)) throw error;
    }
    try {
      await this.core.createNamespacedConfigMap({
        namespace: SIM_NAMESPACE,
        body: {
          metadata: { name: WORLD_CONFIGMAP },
          data: { [WORLD_KEY]: stringifyYaml(readDefaultWorldDocument()) },
        },
      });
      this.options.log('created the default world (test/sim/default-world.yaml)');
    } catch (error) {
      if (!(error instanceof k8s.ApiException && error.code === 409)) throw error;
    }
  }

  private async applyWorld(cm: V1ConfigMap): Promise<void> {
    const version = cm.metadata?.resourceVersion ?? '';
    if (version === this.appliedVersion || this.stopped) return;
    let world: World;
    try {
      world = parseWorldYaml(cm.data?.[WORLD_KEY] ?? '', `ConfigMap ${SIM_NAMESPACE}/${WORLD_CONFIGMAP}`);
    } catch (error) {
      this.options.log(describeError(error));
      await this.writeStatus(version, { error: describeError(error) });
      this.appliedVersion = version;
      return;
    }
    try {
      this.world = world;
      const { added, removed } = await this.nodes.apply(world, (node) => this.evictNode(node));
      for (const name of removed) {
        const server = this.servers.get(name);
        server?.closeAllConnections();
        server?.close();
        this.servers.delete(name);
        this.recorders.delete(name);
      }
      for (const node of added) {
        if (this.servers.has(node.name)) continue;
        const server = kubeletServer(node.name, this.tls, this);
        await listen(server, node.port);
        this.servers.set(node.name, server);
      }
      await this.provisioner.applyClasses(world.storageClasses);
      this.appliedVersion = version;
      await this.writeStatus(version, {});
      this.options.log(
        `applied world ${version}: nodes ${world.nodes.map((n) => `${n.name}:${this.nodes.nodes.get(n.name)?.port}`).join(', ')}`,
      );
    } catch (error) {
      this.options.log(`applying world ${version}: ${describeError(error)}`);
      await this.writeStatus(version, { error: describeError(error) });
    }
  }

  private async writeStatus(version: string, extra: { error?: string }): Promise<void> {
    const data: Record<string, string> = {
      observedResourceVersion: version,
      pid: String(process.pid),
      startedAt: new Date(this.startedAt).toISOString(),
      nodes: JSON.stringify([...this.nodes.nodes.values()].map((n) => ({ name: n.name, port: n.port }))),
      metricsPort: String(this.options.metricsPort),
      ...(extra.error ? { error: extra.error } : {}),
    };
    const body = { metadata: { name: STATUS_CONFIGMAP }, data };
    try {
      await this.core.replaceNamespacedConfigMap({ name: STATUS_CONFIGMAP, namespace: SIM_NAMESPACE, body });
    } catch (error) {
      if (!(error instanceof k8s.ApiException && error.code === 404)) throw error;
      await this.core.createNamespacedConfigMap({ namespace: SIM_NAMESPACE, body });
    }
  }

  /** A node leaves the world: its pods go at once (no kubelet would confirm their deletion). */
  private async evictNode(node: string): Promise<void> {
    for (const [uid, entry] of this.entries) {
      if (entry.node.name !== node) continue;
      entry.sink.close();
      entry.machine.stop();
      this.entries.delete(uid);
    }
    const pods = await this.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${node}` });
    for (const pod of pods.items) {
      await this.core
        .deleteNamespacedPod({
          name: pod.metadata?.name ?? '',
          namespace: pod.metadata?.namespace ?? '',
          gracePeriodSeconds: 0,
        })
        .catch(() => undefined);
    }
  }

  // ---------------------------------------------------------------- pods

  private recorderFor(node: string): EventRecorder {
    let recorder = this.recorders.get(node);
    if (!recorder) {
      recorder = new EventRecorder(this.core, { component: 'kubelet', host: node }, this.options.log);
      this.recorders.set(node, recorder);
    }
    return recorder;
  }

  /** Reads an object; undefined on 404; transient errors are retried (5 tries, 200 ms apart). */
  private async readKeys(read: () => Promise<Set<string>>): Promise<Set<string> | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await read();
      } catch (error) {
        if (error instanceof k8s.ApiException && error.code === 404) return undefined;
        if (attempt >= 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  private readonly lookup: ConfigLookup = {
    configMap: (namespace, name) =>
      this.readKeys(async () => {
        const cm = await this.core.readNamespacedConfigMap({ name, namespace });
        return new Set([...Object.keys(cm.data ?? {}), ...Object.keys(cm.binaryData ?? {})]);
      }),
    secret: (namespace, name) =>
      this.readKeys(async () => {
        const secret = await this.core.readNamespacedSecret({ name, namespace });
        return new Set(Object.keys(secret.data ?? {}));
      }),
  };

  private onPod(pod: V1Pod): void {
    const uid = pod.metadata?.uid ?? '';
    const existing = this.entries.get(uid);
    if (existing) {
      existing.pod = pod;
      existing.machine.update(pod);
      return;
    }
    const node = this.nodes.nodes.get(pod.spec?.nodeName ?? '');
    if (!node || !this.world || this.stopped) return;
    const namespace = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    if (pod.metadata?.deletionTimestamp) {
      void this.core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 }).catch(() => undefined);
      return;
    }
    if (TERMINAL.has(pod.status?.phase ?? '')) return;
    const sink = new ClusterPodSink(
      () => this.entries.get(uid),
      this.core,
      this.recorderFor(node.name),
      { namespace, name, uid },
      this.options.log,
    );
    const machine = new PodMachine(pod, {
      world: this.world,
      clock: realClock,
      sink,
      lookup: this.lookup,
      node,
      log: this.options.log,
    });
    this.entries.set(uid, { pod, machine, node, sink });
    void machine
      .run()
      .catch((error: unknown) => this.options.log(`pod ${namespace}/${name}: ${describeError(error)}`));
  }

  private onPodDeleted(pod: V1Pod): void {
    const uid = pod.metadata?.uid ?? '';
    const entry = this.entries.get(uid);
    if (!entry) return;
    entry.sink.close();
    entry.machine.stop();
    this.entries.delete(uid);
    this.recorders.get(entry.node.name)?.forget(uid);
  }

  // ---------------------------------------------------------------- kubelet API backend

  logs(node: string, namespace: string, pod: string, container: string, previous: boolean) {
    for (const entry of this.entries.values()) {
      if (entry.node.name === node && entry.machine.namespace === namespace && entry.machine.name === pod) {
        return entry.machine.logs(container, previous);
      }
    }
    return undefined;
  }

  usage(node: string): NodeUsage | undefined {
    const simNode = this.nodes.nodes.get(node);
    if (!simNode) return undefined;
    const pods: PodUsage[] = [];
    for (const entry of this.entries.values()) {
      if (entry.node.name !== node) continue;
      const { pod, machine } = entry;
      pods.push({
        name: machine.name,
        namespace: machine.namespace,
        uid: machine.uid,
        labels: pod.metadata?.labels ?? {},
        creationTimestamp: String(pod.metadata?.creationTimestamp ?? ''),
        startTime: Date.parse(String(pod.status?.startTime ?? '')) || Date.now(),
        node,
        containers: machine.usage(),
      });
    }
    return {
      name: node,
      startTime: this.startedAt,
      memoryCapacityBytes: parseMemoryBytes(simNode.spec.capacity.memory) ?? 0,
      pods,
    };
  }

  allUsage(): NodeUsage[] {
    return [...this.nodes.nodes.keys()]
      .map((name) => this.usage(name))
      .filter((u): u is NodeUsage => u !== undefined);
  }

  metricsWindow(): string {
    const world = this.world;
    if (!world) return '15s';
    return `${world.metrics.windowSeconds * world.timing.scale}s`;
  }

  // ---------------------------------------------------------------- metrics.k8s.io

  private async startMetricsApi(): Promise<void> {
    const certFile = join(this.options.pkiDir, 'sim-metrics.crt');
    const tls: TlsMaterial = {
      cert: readFileSync(certFile),
      key: readFileSync(join(this.options.pkiDir, 'sim-metrics.key')),
      ca: readFileSync(join(this.options.pkiDir, 'front-proxy-ca.crt')),
    };
    this.metricsServer = metricsApiServer(tls, this);
    await listen(this.metricsServer, this.options.metricsPort);
    const port = this.options.metricsPort;
    const service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: METRICS_SERVICE, namespace: SIM_NAMESPACE },
      spec: {
        type: 'ExternalName',
        externalName: 'localhost',
        ports: [{ name: 'https', port, targetPort: port, protocol: 'TCP' }],
      },
    };
    const apiService = {
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: { name: 'v1beta1.metrics.k8s.io', labels: { 'kubemend.io/simulated': 'true' } },
      spec: {
        group: 'metrics.k8s.io',
        version: 'v1beta1',
        groupPriorityMinimum: 100,
        versionPriority: 100,
        caBundle: readFileSync(join(this.options.pkiDir, 'ca.crt')).toString('base64'),
        service: { namespace: SIM_NAMESPACE, name: METRICS_SERVICE, port },
      },
    };
    const objects = k8s.KubernetesObjectApi.makeApiClient(this.options.kubeconfig);
    for (const body of [service, apiService]) {
      try {
        await objects.create(body);
      } catch (error) {
        if (!(error instanceof k8s.ApiException && error.code === 409)) throw error;
        await objects.patch(
          body,
          undefined,
          undefined,
          'kubemend-sim',
          true,
          k8s.PatchStrategy.ServerSideApply,
        );
      }
    }
  }
}
