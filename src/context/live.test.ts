import { describe, expect, it } from 'vitest';
import type {
  AccessRequest,
  ClusterGateway,
  KubeObject,
  ListOptions,
  PageOptions,
  ObjectKey,
} from '../cluster/gateway.js';
import { KubernetesApiError } from '../cluster/errors.js';
import { gatherLiveContext } from './live.js';

const CLUSTER_SCOPED = new Set(['Node', 'Namespace', 'ClusterRoleBinding', 'ClusterRole']);

/** A read-only fake API server: objects, per-namespace refusals, container logs, recorded calls. */
function fakeCluster(options: {
  objects: KubeObject[];
  readable?: (namespace: string | undefined) => boolean;
  logs?: Record<string, string>;
  allowed?: boolean;
}) {
  const calls: string[] = [];
  const readable = options.readable ?? (() => true);
  const refuse = (what: string) => new KubernetesApiError(403, `${what} is forbidden`);
  const gateway: ClusterGateway = {
    server: 'https://fake',
    version: async () => ({ gitVersion: 'v1.36.0' }),
    async get(key: ObjectKey) {
      calls.push(`get ${key.kind} ${key.namespace ?? ''}/${key.name}`);
      if (key.namespace !== undefined && !readable(key.namespace)) throw refuse(key.kind);
      return options.objects.find(
        (o) =>
          o.kind === key.kind &&
          o.metadata?.name === key.name &&
          (key.namespace === undefined || o.metadata?.namespace === key.namespace),
      );
    },
    async list(kind: string, namespace?: string, list: ListOptions = {}) {
      calls.push(`list ${kind} ${namespace ?? '*'} ${list.fieldSelector ?? ''}`.trim());
      if (!CLUSTER_SCOPED.has(kind) && !readable(namespace)) throw refuse(kind);
      return options.objects.filter((o) => {
        if (o.kind !== kind || (namespace !== undefined && o.metadata?.namespace !== namespace)) return false;
        const node = /^spec\.nodeName=(.+)$/.exec(list.fieldSelector ?? '')?.[1];
        return node === undefined || (o.spec as { nodeName?: string } | undefined)?.nodeName === node;
      });
    },
    async listWithVersion(kind: string, namespace?: string, list: ListOptions = {}) {
      return { items: await gateway.list(kind, namespace, list), resourceVersion: '1' };
    },
    async listPage(kind: string, namespace: string | undefined, page: PageOptions) {
      // One page holds everything: live gathering never pages.
      return { items: await gateway.list(kind, namespace, page) };
    },
    async logs(namespace: string, pod: string, container: string, log = {}) {
      const key = `${namespace}/${pod}/${container}${log.previous ? ':previous' : ''}`;
      calls.push(`logs ${key}`);
      return options.logs?.[key] ?? '';
    },
    async subjectAccessReview(request: AccessRequest) {
      calls.push(`sar ${request.user} ${request.verb} ${request.resource} ${request.namespace ?? ''}`);
      return {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: request.user,
          resourceAttributes: {
            verb: request.verb,
            resource: request.resource,
            group: request.group,
            namespace: request.namespace,
          },
        },
        status: { allowed: options.allowed ?? false },
      };
    },
    whoAmI: async () => ({ username: 'system:serviceaccount:kubemend-system:kubemend' }),
    patch: () => Promise.reject(new Error('read-only')),
    create: () => Promise.reject(new Error('read-only')),
    replace: () => Promise.reject(new Error('read-only')),
    delete: () => Promise.reject(new Error('read-only')),
    scale: () => Promise.reject(new Error('read-only')),
    restart: () => Promise.reject(new Error('read-only')),
    rollback: () => Promise.reject(new Error('read-only')),
    cordon: () => Promise.reject(new Error('read-only')),
    watch: () => Promise.reject(new Error('read-only')),
    canI: async () => false,
    tokenReview: async () => ({ authenticated: false }),
  };
  return { gateway, calls };
}

const budget = { timeoutMs: 5_000, maxApiCalls: 60 };

const deployment = (namespace: string, name: string): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace, uid: `${name}-uid` },
  spec: { selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } } } },
});
const replicaSet = (namespace: string, name: string, owner: string): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: {
    name,
    namespace,
    labels: { app: owner },
    ownerReferences: [{ kind: 'Deployment', name: owner, uid: `${owner}-uid`, controller: true }],
  },
});
const pod = (
  namespace: string,
  name: string,
  owner: string,
  node: string,
  container: object,
  restarts = 0,
): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name,
    namespace,
    labels: { app: owner },
    ownerReferences: [{ kind: 'ReplicaSet', name: `${owner}-rs`, controller: true }],
  },
  spec: { nodeName: node, containers: [container] },
  status: {
    phase: 'Running',
    containerStatuses: [
      {
        name: (container as { name: string }).name,
        ready: restarts === 0,
        restartCount: restarts,
        state: restarts ? { waiting: { reason: 'CrashLoopBackOff' } } : { running: {} },
      },
    ],
  },
});

describe('live gathering', () => {
  it("keeps each container's current and previous output apart from the caller's", async () => {
    const { gateway } = fakeCluster({
      objects: [
        deployment('shop', 'worker'),
        replicaSet('shop', 'worker-rs', 'worker'),
        pod('shop', 'worker-1', 'worker', 'n1', { name: 'worker' }, 2),
      ],
      logs: {
        'shop/worker-1/worker:previous': "Traceback (most recent call last):\nKeyError: 'QUEUE_URL'\n",
      },
    });
    const live = await gatherLiveContext(
      gateway,
      { issue: 'x', target: { kind: 'Deployment', namespace: 'shop', name: 'worker' } },
      budget,
    );
    expect(live.logs).toEqual([
      {
        namespace: 'shop',
        pod: 'worker-1',
        container: 'worker',
        previous: true,
        lines: ['Traceback (most recent call last):', "KeyError: 'QUEUE_URL'"],
      },
    ]);
    expect(live.report.denied).toEqual([]);
  });

  it('reports a namespace whose reads are refused, with kubemend’s identity, and stops reading there', async () => {
    const { gateway, calls } = fakeCluster({
      objects: [deployment('locked', 'mailer')],
      readable: (ns) => ns !== 'locked' && ns !== undefined,
    });
    const live = await gatherLiveContext(
      gateway,
      { issue: 'x', target: { kind: 'Deployment', namespace: 'locked', name: 'mailer' } },
      budget,
    );
    expect(live.report.denied).toEqual([
      {
        namespace: 'locked',
        reads: ['get Deployment/mailer'],
        identity: 'system:serviceaccount:kubemend-system:kubemend',
      },
    ]);
    expect(calls.filter((call) => call.startsWith('list'))).toEqual([]);
  });

  it('a Node event is read cluster-wide and leads to the pod whose container runs the victim process', async () => {
    const { gateway, calls } = fakeCluster({
      objects: [
        { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-b' } },
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'apps' } },
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system' } },
        deployment('apps', 'shipper'),
        deployment('apps', 'ledger'),
        replicaSet('apps', 'ledger-rs', 'ledger'),
        pod('apps', 'shipper-1', 'shipper', 'node-b', { name: 'shipper', image: 'fluent-bit:3' }, 5),
        pod(
          'apps',
          'ledger-1',
          'ledger',
          'node-b',
          { name: 'ledger', image: 'ledger:4', command: ['java', '-jar', '/app/ledger.jar'] },
          2,
        ),
        pod('apps', 'elsewhere-1', 'ledger', 'node-c', { name: 'ledger', command: ['java'] }, 0),
      ],
      // kubemend may read `apps` only: not pods cluster-wide, not kube-system.
      readable: (ns) => ns === 'apps',
    });
    const live = await gatherLiveContext(
      gateway,
      {
        issue: 'node-b SystemOOM',
        context: {
          event: {
            metadata: { namespace: 'default' },
            involvedObject: { kind: 'Node', name: 'node-b' },
            reason: 'SystemOOM',
            message: 'System OOM encountered, victim process: java, pid: 2231947',
          },
        },
      },
      budget,
    );
    expect(calls).toContain('get Node /node-b');
    expect(calls).toContain('list Pod * spec.nodeName=node-b');
    expect(calls).toContain('list Pod apps spec.nodeName=node-b');
    expect(calls).toContain('get Pod apps/ledger-1');
    expect(live.objects.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual(
      expect.arrayContaining(['Node/node-b', 'Deployment/ledger']),
    );
    expect(live.report.denied).toEqual([]); // probing refusals are expected, not the incident's
    expect(live.report.notes.join(' ')).toContain('victim process java runs in pod apps/ledger-1');
  });

  it('a ServiceAccount: the bindings that name it, their roles, and a SubjectAccessReview as it', async () => {
    const { gateway, calls } = fakeCluster({
      objects: [
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reporter', namespace: 'ci' } },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: 'reporter-read', namespace: 'ci' },
          roleRef: { kind: 'Role', name: 'reporter-read' },
          subjects: [{ kind: 'ServiceAccount', name: 'reporter' }],
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'RoleBinding',
          metadata: { name: 'other', namespace: 'ci' },
          roleRef: { kind: 'Role', name: 'other' },
          subjects: [{ kind: 'ServiceAccount', name: 'someone-else' }],
        },
        {
          apiVersion: 'rbac.authorization.k8s.io/v1',
          kind: 'Role',
          metadata: { name: 'reporter-read', namespace: 'ci' },
          rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }],
        },
      ],
    });
    const live = await gatherLiveContext(
      gateway,
      {
        issue: "why can't my ServiceAccount reporter list pods?",
        target: { kind: 'ServiceAccount', namespace: 'ci', name: 'reporter' },
      },
      budget,
    );
    expect(live.objects.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual(
      expect.arrayContaining([
        'ServiceAccount/reporter',
        'RoleBinding/reporter-read',
        'Role/reporter-read',
        'SubjectAccessReview/reporter:list:pods',
      ]),
    );
    expect(live.objects.some((o) => o.metadata?.name === 'other')).toBe(false);
    expect(calls).toContain('sar system:serviceaccount:ci:reporter list pods ci');
  });
});
