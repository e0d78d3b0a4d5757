/**
 * A cluster to scan, on the real control plane and the simulated nodes: twenty broken objects of
 * different categories (each as the simulator makes it fail: OOM kills, crash loops, image pulls,
 * missing configuration, probes, scheduling, claims, Services, Jobs, autoscalers, quota, security
 * context, a node that is not ready) and any number of healthy workloads across namespaces — among
 * them negative controls: pods whose readiness probe fails once before the app listens, completed
 * Jobs, Services with endpoints, bound claims, Deployments scaled to zero. Shared by the
 * integration test and `npm run bench:scan`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import type { Category } from '../../src/domain/index.js';
import { worldWithOverlay } from '../sim/world.js';
import { kubectl, waitFor } from '../cluster/cluster-harness.js';

type Manifest = Record<string, unknown>;

export interface BrokenCase {
  /** The object the finding must be about: `Kind/name` (namespace: the case's). */
  readonly object: string;
  readonly category: Category;
  readonly manifests: Manifest[];
  /** A case that needs a namespace of its own (a ResourceQuota would starve healthy workloads). */
  readonly alone?: boolean;
  /** Cluster-scoped (the Node): not in a namespace. */
  readonly clusterScoped?: boolean;
}

const container = (name: string, image: string, extra: Manifest = {}): Manifest => ({
  name,
  image,
  ...extra,
});

function deployment(
  name: string,
  containers: Manifest[],
  spec: Manifest = {},
  labels = { app: name },
): Manifest {
  const { volumes, nodeSelector, securityContext, ...rest } = spec as {
    volumes?: unknown;
    nodeSelector?: unknown;
    securityContext?: unknown;
  } & Manifest;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      ...rest,
      template: {
        metadata: { labels },
        spec: {
          containers,
          ...(volumes ? { volumes } : {}),
          ...(nodeSelector ? { nodeSelector } : {}),
          ...(securityContext ? { securityContext } : {}),
        },
      },
    },
  };
}

const API = 'ghcr.io/acme/api:v1.4.0';
const WEB = 'ghcr.io/acme/web:v2.0.0';

/** The twenty broken objects; `node-not-ready` needs the world overlay below. */
export const BROKEN: readonly BrokenCase[] = [
  {
    object: 'Deployment/oom',
    category: 'oom-killed',
    manifests: [deployment('oom', [container('api', API, { resources: { limits: { memory: '128Mi' } } })])],
  },
  {
    object: 'Deployment/payments',
    category: 'crash-loop',
    manifests: [deployment('payments', [container('api', 'ghcr.io/acme/api:v1.5.0')])],
  },
  {
    object: 'Deployment/reports',
    category: 'crash-loop',
    manifests: [
      deployment('reports', [
        container('reports', 'ghcr.io/acme/reports:v2.1.0', { resources: { limits: { memory: '512Mi' } } }),
      ]),
    ],
  },
  {
    object: 'Deployment/storefront',
    category: 'image-pull-not-found',
    manifests: [deployment('storefront', [container('web', 'ghcr.io/acme/web:v9.9.9')])],
  },
  {
    object: 'Deployment/billing',
    category: 'image-pull-auth',
    manifests: [deployment('billing', [container('billing', 'registry.acme.io/billing:v3')])],
  },
  {
    object: 'Deployment/orders',
    category: 'config-missing',
    manifests: [
      deployment('orders', [
        container('api', API, {
          env: [{ name: 'DB_URL', valueFrom: { configMapKeyRef: { name: 'orders-config', key: 'db-url' } } }],
        }),
      ]),
    ],
  },
  {
    object: 'StatefulSet/db',
    category: 'config-missing',
    manifests: [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'db-credentials' },
        stringData: { username: 'app' },
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'db' },
        spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ name: 'postgres', port: 5432 }] },
      },
      {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'db' },
        spec: {
          serviceName: 'db',
          replicas: 1,
          selector: { matchLabels: { app: 'db' } },
          template: {
            metadata: { labels: { app: 'db' } },
            spec: {
              containers: [
                container('postgres', 'ghcr.io/acme/db:v15.4', {
                  env: [
                    {
                      name: 'POSTGRES_PASSWORD',
                      valueFrom: { secretKeyRef: { name: 'db-credentials', key: 'password' } },
                    },
                  ],
                }),
              ],
            },
          },
        },
      },
    ],
  },
  {
    object: 'Deployment/gateway',
    category: 'invalid-command',
    manifests: [deployment('gateway', [container('api', API, { command: ['/app/server', '--port=8080'] })])],
  },
  {
    object: 'Deployment/inventory',
    category: 'liveness-probe-failure',
    manifests: [
      deployment('inventory', [
        container('api', API, {
          ports: [{ name: 'http', containerPort: 8080 }],
          livenessProbe: {
            httpGet: { path: '/healthz', port: 8081 },
            initialDelaySeconds: 5,
            periodSeconds: 5,
            failureThreshold: 3,
          },
        }),
      ]),
    ],
  },
  {
    object: 'Deployment/search',
    category: 'readiness-probe-failure',
    manifests: [
      deployment('search', [
        container('api', API, {
          ports: [{ name: 'http', containerPort: 8080 }],
          readinessProbe: { httpGet: { path: '/readyz', port: 8080 }, periodSeconds: 5, failureThreshold: 3 },
        }),
      ]),
    ],
  },
  {
    object: 'Deployment/analytics',
    category: 'insufficient-resources',
    manifests: [
      deployment('analytics', [container('web', WEB, { resources: { requests: { cpu: '500' } } })]),
    ],
  },
  {
    object: 'Deployment/cache',
    category: 'scheduling-constraints',
    manifests: [deployment('cache', [container('web', WEB)], { nodeSelector: { disktype: 'ssd' } })],
  },
  {
    object: 'Deployment/trainer',
    category: 'scheduling-constraints',
    manifests: [
      deployment('trainer', [container('web', WEB)], { nodeSelector: { accelerator: 'nvidia-l4' } }),
    ],
  },
  {
    object: 'Deployment/uploader',
    category: 'volume-pending',
    manifests: [
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'uploads' },
        spec: {
          storageClassName: 'fast-ssd',
          accessModes: ['ReadWriteOnce'],
          resources: { requests: { storage: '1Gi' } },
        },
      },
      deployment(
        'uploader',
        [container('web', WEB, { volumeMounts: [{ name: 'uploads', mountPath: '/data' }] })],
        { volumes: [{ name: 'uploads', persistentVolumeClaim: { claimName: 'uploads' } }] },
      ),
    ],
  },
  {
    object: 'Service/frontend',
    category: 'service-no-endpoints',
    manifests: [
      deployment(
        'frontend',
        [container('web', WEB, { ports: [{ containerPort: 8080 }] })],
        {},
        {
          app: 'shop-frontend',
        },
      ),
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'frontend' },
        spec: { selector: { app: 'frontend' }, ports: [{ port: 80, targetPort: 8080 }] },
      },
    ],
  },
  {
    object: 'Job/import',
    category: 'job-failed',
    manifests: [
      {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'import' },
        spec: {
          backoffLimit: 1,
          template: {
            spec: { restartPolicy: 'Never', containers: [container('import', 'ghcr.io/acme/batch:v1.1.0')] },
          },
        },
      },
    ],
  },
  {
    object: 'HorizontalPodAutoscaler/cruncher',
    category: 'hpa-limited',
    manifests: [
      deployment(
        'cruncher',
        [
          container('cruncher', 'ghcr.io/acme/cruncher:v1.0.0', {
            resources: { requests: { cpu: '200m', memory: '300Mi' } },
          }),
        ],
        { replicas: 3 },
      ),
      {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: 'cruncher' },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'cruncher' },
          minReplicas: 1,
          maxReplicas: 3,
          metrics: [
            {
              type: 'Resource',
              resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } },
            },
          ],
        },
      },
    ],
  },
  {
    object: 'Deployment/quota-api',
    category: 'quota-exceeded',
    alone: true,
    manifests: [
      {
        apiVersion: 'v1',
        kind: 'ResourceQuota',
        metadata: { name: 'compute-quota' },
        spec: { hard: { 'requests.cpu': '500m', 'limits.memory': '2Gi' } },
      },
      deployment(
        'quota-api',
        [
          container('api', API, {
            resources: { requests: { cpu: '200m', memory: '200Mi' }, limits: { memory: '256Mi' } },
          }),
        ],
        { replicas: 3 },
      ),
    ],
  },
  {
    object: 'DaemonSet/log-agent',
    category: 'security-context',
    manifests: [
      {
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: { name: 'log-agent' },
        spec: {
          selector: { matchLabels: { app: 'log-agent' } },
          template: {
            metadata: { labels: { app: 'log-agent' } },
            spec: {
              securityContext: { runAsNonRoot: true },
              containers: [container('agent', 'ghcr.io/acme/log-agent:v0.9.1')],
            },
          },
        },
      },
    ],
  },
  { object: 'Node/sim-node-down', category: 'node-not-ready', clusterScoped: true, manifests: [] },
];

/**
 * Healthy workload number `index`: mostly web Deployments, some with a Service, and the negative
 * controls — an api whose readiness probe fails once before it listens, a StatefulSet, a completed
 * Job, a bound claim, a Deployment scaled to zero.
 */
export function healthy(index: number, replicas: number): Manifest[] {
  const name = `app-${String(index).padStart(3, '0')}`;
  const web = (extra: Manifest = {}) => container('web', WEB, { ports: [{ containerPort: 8080 }], ...extra });
  if (index % 25 === 24) return [deployment(name, [web()], { replicas: 0 })];
  if (index % 20 === 19)
    return [
      {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name },
        spec: {
          backoffLimit: 1,
          template: {
            spec: { restartPolicy: 'Never', containers: [container('batch', 'ghcr.io/acme/batch:v1.0.0')] },
          },
        },
      },
    ];
  if (index % 10 === 9)
    return [
      {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name },
        spec: {
          serviceName: name,
          replicas,
          selector: { matchLabels: { app: name } },
          template: { metadata: { labels: { app: name } }, spec: { containers: [web()] } },
        },
      },
    ];
  if (index % 5 === 4)
    // Readiness is probed every second from the first: it fails until the app listens (2 s).
    return [
      deployment(
        name,
        [
          container('api', API, {
            ports: [{ containerPort: 8080 }],
            readinessProbe: {
              httpGet: { path: '/ready', port: 8080 },
              periodSeconds: 1,
              failureThreshold: 3,
            },
          }),
        ],
        { replicas },
      ),
    ];
  if (index % 30 === 7)
    return [
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name },
        spec: {
          storageClassName: 'standard',
          accessModes: ['ReadWriteOnce'],
          resources: { requests: { storage: '1Gi' } },
        },
      },
      deployment(name, [web({ volumeMounts: [{ name: 'data', mountPath: '/data' }] })], {
        replicas: 1,
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: name } }],
      }),
    ];
  const manifests = [deployment(name, [web()], { replicas })];
  if (index % 3 === 0)
    manifests.push({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name },
      spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] },
    });
  return manifests;
}

export interface ScanWorld {
  readonly namespaces: readonly string[];
  /** `Kind/namespace/name` (or `Node/name`) → the category the finding must have. */
  readonly expected: ReadonlyMap<string, Category>;
  /** Namespace → manifests to apply there. */
  readonly manifests: ReadonlyMap<string, Manifest[]>;
}

/**
 * `healthyCount` healthy workloads spread over the namespaces (not the quota's), the broken cases
 * two by two in namespace order (the quota alone in the last).
 */
export function planWorld(
  prefix: string,
  namespaceCount: number,
  healthyCount: number,
  replicas = 1,
): ScanWorld {
  const namespaces = Array.from({ length: namespaceCount }, (_, i) => `${prefix}-${i}`);
  const manifests = new Map<string, Manifest[]>(namespaces.map((ns) => [ns, []]));
  const expected = new Map<string, Category>();
  const quotaNamespace = namespaces.at(-1)!;
  let slot = 0;
  for (const broken of BROKEN) {
    if (broken.clusterScoped) {
      expected.set(broken.object, broken.category);
      continue;
    }
    const namespace = broken.alone
      ? quotaNamespace
      : namespaces[Math.floor(slot++ / 2) % (namespaceCount - 1)]!;
    manifests.get(namespace)!.push(...broken.manifests);
    const [kind, name] = broken.object.split('/');
    expected.set(`${kind}/${namespace}/${name}`, broken.category);
  }
  for (let index = 0; index < healthyCount; index++)
    manifests.get(namespaces[index % (namespaceCount - 1)]!)!.push(...healthy(index, replicas));
  return { namespaces, expected, manifests };
}

/** The extra nodes: one that is not Ready, one tainted for GPUs; `podsPerNode` raises capacity. */
export function worldOverlay(podsPerNode?: number): string {
  const big = podsPerNode
    ? ['sim-node-a', 'sim-node-b', 'sim-node-c'].map((name) => ({
        name,
        capacity: { cpu: '64', memory: '256Gi', pods: String(podsPerNode) },
      }))
    : [];
  return stringify({
    nodes: [
      ...big,
      { name: 'sim-node-down', conditions: { Ready: 'False' } },
      {
        name: 'sim-node-gpu',
        capacity: { cpu: '8', memory: '32Gi', pods: '110' },
        labels: { accelerator: 'nvidia-l4' },
        taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }],
      },
    ],
  });
}

/** Write the world ConfigMap and wait until the simulator applied it and the nodes settled. */
export async function applyWorld(overlay: string | undefined, label: string): Promise<void> {
  const { yaml, world } = worldWithOverlay(overlay, label);
  const applied = JSON.parse(
    kubectl(['apply', '-o', 'json', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: 'world',
          namespace: 'kubemend-sim',
          annotations: { 'kubemend.io/applied-for': label },
        },
        data: { 'world.yaml': yaml },
      }),
    }),
  ) as { metadata: { resourceVersion: string } };
  await waitFor('the simulator to apply the world', async () => {
    const status = JSON.parse(
      kubectl(['get', 'configmap', 'world-status', '-n', 'kubemend-sim', '-o', 'json']),
    ) as {
      data?: Record<string, string>;
    };
    if (status.data?.error) throw new Error(`the simulator rejected the world: ${status.data.error}`);
    return status.data?.observedResourceVersion === applied.metadata.resourceVersion ? true : undefined;
  });
  await waitFor(
    'the world nodes to settle',
    async () => {
      const nodes = JSON.parse(
        kubectl(['get', 'nodes', '-l', 'kubemend.io/simulated=true', '-o', 'json']),
      ) as {
        items: Array<{
          metadata: { name: string };
          spec?: { taints?: Array<{ key: string }> };
          status?: { conditions?: Array<{ type: string; status: string }> };
        }>;
      };
      const settled = world.nodes.every((spec) => {
        const node = nodes.items.find((n) => n.metadata.name === spec.name);
        const ready = node?.status?.conditions?.find((c) => c.type === 'Ready')?.status;
        const notReadyTaint = node?.spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/'));
        const want = spec.conditions.Ready ?? 'True';
        return ready === want && (want === 'True' ? !notReadyTaint : notReadyTaint);
      });
      return settled && nodes.items.length === world.nodes.length ? true : undefined;
    },
    120_000,
  );
}

/** Apply every namespace's manifests (namespaces first), a few at a time. */
export function createWorld(world: ScanWorld): void {
  const namespaces = world.namespaces.map((name) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name },
  }));
  kubectl(['apply', '-f', '-'], {
    input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: namespaces }),
  });
  for (const [namespace, manifests] of world.manifests) {
    for (let start = 0; start < manifests.length; start += 100) {
      const items = manifests.slice(start, start + 100);
      kubectl(['apply', '--server-side', '-n', namespace, '-f', '-'], {
        input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items }),
        timeout: 120_000,
      });
    }
  }
}

/** Wait until every healthy Deployment in the namespaces is Available (its pods ran and are ready). */
export async function waitHealthy(world: ScanWorld, timeoutMs: number): Promise<void> {
  // jsonpath, not -o json: a few thousand objects as JSON overflow the harness's output buffer.
  const columns =
    '{range .items[*]}{.metadata.namespace} {.metadata.name} {.spec.replicas} {.status.readyReplicas}{"\\n"}{end}';
  await waitFor(
    'the healthy workloads to become available',
    async () => {
      const lines = kubectl(['get', 'deployments,statefulsets', '-A', '-o', `jsonpath=${columns}`], {
        timeout: 60_000,
      }).split('\n');
      const waiting = lines.filter((line) => {
        const [namespace, name, wanted, ready] = line.split(' ');
        return (
          namespace !== undefined &&
          world.namespaces.includes(namespace) &&
          name?.startsWith('app-') &&
          Number(ready || 0) < Number(wanted || 1)
        );
      });
      return waiting.length === 0 ? true : undefined;
    },
    timeoutMs,
    2_000,
  );
  await sleep(1_000);
}

export function deleteWorld(world: ScanWorld): void {
  for (const namespace of world.namespaces)
    kubectl(['delete', 'namespace', namespace, '--wait=false'], { timeout: 60_000 });
}
