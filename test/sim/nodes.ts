// Node registration and heartbeats: the world's nodes as Node objects (capacity, labels,
// taints, conditions, addresses, daemon endpoint, nodeInfo), Leases renewed every 10 s so the
// real node-lifecycle controller keeps them Ready, and pod IPs from each node's podCIDR.
import * as k8s from '@kubernetes/client-node';
import type { CoreV1Api, CoordinationV1Api, V1Node, V1NodeCondition, V1Taint } from '@kubernetes/client-node';
import { type NodeRuntime, rfc3339 } from './pod-machine.js';
import { normalizeImage } from './messages.js';
import type { World, WorldNode } from './world.js';
import { describeError } from './events.js';

export const SIM_LABEL = 'kubemend.io/simulated';
export const KUBELET_VERSION = 'v1.36.3';
const HOST_IP = '127.0.0.1';
const LEASE_SECONDS = 40;
const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

const CONDITION_TEXT: Record<string, Record<'True' | 'False' | 'Unknown', [string, string]>> = {
  Ready: {
    True: ['KubeletReady', 'kubelet is posting ready status'],
    False: [
      'KubeletNotReady',
      'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
    ],
    Unknown: ['NodeStatusUnknown', 'Kubelet stopped posting node status.'],
  },
  MemoryPressure: {
    False: ['KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
    True: ['KubeletHasInsufficientMemory', 'kubelet has insufficient memory available'],
    Unknown: ['NodeStatusUnknown', 'Kubelet stopped posting node status.'],
  },
  DiskPressure: {
    False: ['KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
    True: ['KubeletHasDiskPressure', 'kubelet has disk pressure'],
    Unknown: ['NodeStatusUnknown', 'Kubelet stopped posting node status.'],
  },
  PIDPressure: {
    False: ['KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
    True: ['KubeletHasInsufficientPID', 'kubelet has insufficient PID available'],
    Unknown: ['NodeStatusUnknown', 'Kubelet stopped posting node status.'],
  },
  NetworkUnavailable: {
    False: ['RouteCreated', 'RouteController created a route'],
    True: ['NoRouteCreated', 'Node created without a route'],
    Unknown: ['NodeStatusUnknown', 'Kubelet stopped posting node status.'],
  },
};

/** Node conditions as the kubelet's setters write them; pure, for tests. */
export function nodeConditions(
  node: WorldNode,
  heartbeat: number,
  transitions: Map<string, { status: string; time: number }>,
): V1NodeCondition[] {
  const types = ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready'];
  if (node.conditions.NetworkUnavailable) types.unshift('NetworkUnavailable');
  return types.map((type) => {
    const healthy = type === 'Ready' ? 'True' : 'False';
    const status = (node.conditions[type as keyof WorldNode['conditions']] ?? healthy) as
      'True' | 'False' | 'Unknown';
    const [reason, message] = CONDITION_TEXT[type]?.[status] ?? ['', ''];
    const previous = transitions.get(`${node.name}/${type}`);
    const time = previous && previous.status === status ? previous.time : heartbeat;
    transitions.set(`${node.name}/${type}`, { status, time });
    return {
      type,
      status,
      reason,
      message,
      lastHeartbeatTime: rfc3339(heartbeat) as unknown as Date,
      lastTransitionTime: rfc3339(time) as unknown as Date,
    };
  });
}

/** The first usable addresses of a /24 (or larger) pod CIDR, .2 upwards (host-local IPAM). */
export function podIPFor(podCIDR: string, index: number): string {
  const [base] = podCIDR.split('/');
  const octets = (base ?? '0.0.0.0').split('.').map(Number);
  const value =
    (((octets[0] ?? 0) << 24) >>> 0) +
    ((octets[1] ?? 0) << 16) +
    ((octets[2] ?? 0) << 8) +
    (octets[3] ?? 0) +
    2 +
    index;
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

export class SimNode implements NodeRuntime {
  readonly hostIP = HOST_IP;
  readonly images = new Set<string>();
  podCIDR: string | undefined;
  private readonly ips = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly port: number,
    public spec: WorldNode,
  ) {
    this.resetImages();
  }

  resetImages(): void {
    this.images.clear();
    for (const image of this.spec.preloadedImages) this.images.add(normalizeImage(image));
  }

  allocatePodIP(podUid: string): string {
    const cidr = this.podCIDR ?? '10.244.250.0/24';
    const existing = this.ips.get(podUid);
    if (existing !== undefined) return podIPFor(cidr, existing);
    const used = new Set(this.ips.values());
    let index = 0;
    while (used.has(index)) index += 1;
    this.ips.set(podUid, index);
    return podIPFor(cidr, index);
  }

  releasePodIP(podUid: string): void {
    this.ips.delete(podUid);
  }
}

export class NodeManager {
  readonly nodes = new Map<string, SimNode>();
  private readonly transitions = new Map<string, { status: string; time: number }>();
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly core: CoreV1Api,
    private readonly coordination: CoordinationV1Api,
    private readonly kubeletPortBase: number,
    private readonly log: (message: string) => void,
  ) {}

  private freePort(): number {
    const used = new Set([...this.nodes.values()].map((n) => n.port));
    let port = this.kubeletPortBase;
    while (used.has(port)) port += 1;
    return port;
  }

  /** Registers, updates and removes Nodes to match the world. `beforeRemove` deletes the node's pods. */
  async apply(
    world: World,
    beforeRemove: (node: string) => Promise<void>,
  ): Promise<{ added: SimNode[]; removed: string[] }> {
    const wanted = new Map(world.nodes.map((n) => [n.name, n]));
    const removed: string[] = [];
    for (const name of [...this.nodes.keys()]) {
      if (wanted.has(name)) continue;
      await beforeRemove(name);
      await ignore404(this.core.deleteNode({ name }));
      await ignore404(this.coordination.deleteNamespacedLease({ name, namespace: 'kube-node-lease' }));
      this.nodes.delete(name);
      removed.push(name);
    }
    // Stale simulated nodes from an earlier simulator run that the world no longer has.
    const listed = await this.core.listNode({ labelSelector: `${SIM_LABEL}=true` });
    for (const node of listed.items) {
      const name = node.metadata?.name ?? '';
      if (!wanted.has(name) && !removed.includes(name)) {
        await beforeRemove(name);
        await ignore404(this.core.deleteNode({ name }));
        await ignore404(this.coordination.deleteNamespacedLease({ name, namespace: 'kube-node-lease' }));
        removed.push(name);
      }
    }
    const added: SimNode[] = [];
    for (const spec of world.nodes) {
      let node = this.nodes.get(spec.name);
      if (!node) {
        node = new SimNode(spec.name, this.freePort(), spec);
        this.nodes.set(spec.name, node);
        added.push(node);
      } else {
        node.spec = spec;
      }
      node.resetImages();
      await this.register(node);
    }
    await Promise.all(world.nodes.map((n) => this.renewLease(n.name)));
    return { added, removed };
  }

  private async register(node: SimNode): Promise<void> {
    const { spec } = node;
    const labels = {
      'beta.kubernetes.io/arch': 'amd64',
      'beta.kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'kubernetes.io/hostname': node.name,
      'kubernetes.io/os': 'linux',
      [SIM_LABEL]: 'true',
      ...spec.labels,
    };
    let current: V1Node | undefined;
    try {
      current = await this.core.readNode({ name: node.name });
    } catch (error) {
      if (!(error instanceof k8s.ApiException && error.code === 404)) throw error;
    }
    const worldTaints: V1Taint[] = spec.taints.map((t) => ({
      key: t.key,
      effect: t.effect,
      ...(t.value !== undefined ? { value: t.value } : {}),
    }));
    if (!current) {
      current = await this.core.createNode({
        body: {
          apiVersion: 'v1',
          kind: 'Node',
          metadata: {
            name: node.name,
            labels,
            annotations: {
              'node.alpha.kubernetes.io/ttl': '0',
              'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
            },
          },
          spec: { taints: worldTaints, ...(spec.unschedulable ? { unschedulable: true } : {}) },
        },
      });
    } else {
      // Keep the taints the controllers manage (node.kubernetes.io/*); the rest come from the world.
      const managed = (current.spec?.taints ?? []).filter(
        (t) =>
          t.key.startsWith('node.kubernetes.io/') || t.key.startsWith('node.cloudprovider.kubernetes.io/'),
      );
      const oldLabels = current.metadata?.labels ?? {};
      const labelPatch: Record<string, string | null> = { ...labels };
      for (const key of Object.keys(oldLabels)) if (!(key in labels)) labelPatch[key] = null;
      current = await this.core.patchNode(
        {
          name: node.name,
          body: {
            metadata: { labels: labelPatch },
            spec: { taints: [...managed, ...worldTaints], unschedulable: spec.unschedulable || null },
          },
        },
        mergePatch,
      );
    }
    await this.patchStatus(node);
    node.podCIDR = current.spec?.podCIDR;
    for (let i = 0; i < 50 && !node.podCIDR; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      node.podCIDR = (await this.core.readNode({ name: node.name })).spec?.podCIDR;
    }
  }

  async patchStatus(node: SimNode): Promise<void> {
    const { spec } = node;
    const capacity: Record<string, string> = { ...spec.capacity, 'hugepages-1Gi': '0', 'hugepages-2Mi': '0' };
    const allocatable = { ...capacity, ...(spec.allocatable ?? {}) };
    const uid = Buffer.from(node.name).toString('hex').padEnd(32, '0').slice(0, 32);
    await this.core.patchNodeStatus(
      {
        name: node.name,
        body: {
          status: {
            capacity,
            allocatable,
            conditions: nodeConditions(spec, Date.now(), this.transitions),
            addresses: [
              { type: 'InternalIP', address: HOST_IP },
              { type: 'Hostname', address: node.name },
            ],
            daemonEndpoints: { kubeletEndpoint: { Port: node.port } },
            nodeInfo: {
              machineID: uid,
              systemUUID: `${uid.slice(0, 8)}-${uid.slice(8, 12)}-${uid.slice(12, 16)}-${uid.slice(16, 20)}-${uid.slice(20, 32)}`,
              bootID: uid.split('').reverse().join(''),
              kernelVersion: '6.1.0-28-amd64',
              osImage: 'Debian GNU/Linux 12 (bookworm)',
              containerRuntimeVersion: 'containerd://2.1.4',
              kubeletVersion: KUBELET_VERSION,
              operatingSystem: 'linux',
              architecture: 'amd64',
            },
            images: [...node.images].map((name) => ({ names: [name], sizeBytes: 52_428_800 })),
          },
        },
      },
      mergePatch,
    );
  }

  private async renewLease(name: string): Promise<void> {
    const spec = {
      holderIdentity: name,
      leaseDurationSeconds: LEASE_SECONDS,
      renewTime: new k8s.V1MicroTime(),
    };
    try {
      await this.coordination.patchNamespacedLease(
        { name, namespace: 'kube-node-lease', body: { spec } },
        mergePatch,
      );
    } catch (error) {
      if (!(error instanceof k8s.ApiException && error.code === 404)) throw error;
      const node = await this.core.readNode({ name });
      await this.coordination.createNamespacedLease({
        namespace: 'kube-node-lease',
        body: {
          metadata: {
            name,
            ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata?.uid ?? '' }],
          },
          spec,
        },
      });
    }
  }

  /** Leases every 10 s; node status every 60 s (the kubelet's nodeStatusReportFrequency is 5 min). */
  startHeartbeats(): void {
    const beat = (what: string, action: (name: string) => Promise<void>) => async () => {
      for (const name of this.nodes.keys()) {
        try {
          await action(name);
        } catch (error) {
          this.log(`${what} ${name}: ${describeError(error)}`);
        }
      }
    };
    this.timers.push(
      setInterval(
        beat('lease', (n) => this.renewLease(n)),
        10_000,
      ),
    );
    this.timers.push(
      setInterval(
        beat('node status', async (n) => {
          const node = this.nodes.get(n);
          if (node) await this.patchStatus(node);
        }),
        60_000,
      ),
    );
  }

  stop(): void {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }
}

async function ignore404(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (error) {
    if (!(error instanceof k8s.ApiException && error.code === 404)) throw error;
  }
}
