/** The ClusterGateway adapter for a real API server, over KubeHttpClient. */
import { KubeConfig } from '@kubernetes/client-node';
import { isApiError, KubernetesApiError } from './errors.js';
import {
  type AccessRequest,
  type ClusterGateway,
  FIELD_MANAGER,
  type KubeObject,
  type ListOptions,
  type ListPage,
  type LogOptions,
  type ObjectKey,
  type PageOptions,
  type PatchKind,
  type VersionedList,
  type WatchEvent,
  type WatchOptions,
  type WriteOptions,
} from './gateway.js';
import { KubeHttpClient, type HttpClientOptions } from './http-client.js';
import { apiVersionFor, resourceInfo, resourcePath } from './resources.js';

const CONTENT_TYPES: Readonly<Record<PatchKind, string>> = {
  strategic: 'application/strategic-merge-patch+json',
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
};

export interface KubeconfigSource {
  readonly kubeconfig?: string;
  readonly context?: string;
}

/** Kubeconfig from --kubeconfig, else the default chain (KUBECONFIG, ~/.kube/config, in-cluster). */
export function loadKubeConfig(source: KubeconfigSource = {}): KubeConfig {
  const kc = new KubeConfig();
  if (source.kubeconfig) kc.loadFromFile(source.kubeconfig);
  else kc.loadFromDefault();
  if (source.context) {
    if (!kc.getContexts().some((context) => context.name === source.context)) {
      throw new KubernetesApiError(
        0,
        `context "${source.context}" is not in the kubeconfig (--context / KUBEMEND_CONTEXT)`,
      );
    }
    kc.setCurrentContext(source.context);
  }
  return kc;
}

function writeQuery(options: WriteOptions = {}): Record<string, string | undefined> {
  return { fieldManager: FIELD_MANAGER, dryRun: options.dryRun ? 'All' : undefined };
}

export class KubeClusterGateway implements ClusterGateway {
  private readonly http: KubeHttpClient;
  private sent = 0;

  constructor(kubeConfig: KubeConfig, options: HttpClientOptions = {}) {
    this.http = new KubeHttpClient(kubeConfig, {
      ...options,
      onRequest: (method, path) => {
        this.sent++;
        options.onRequest?.(method, path);
      },
    });
  }

  /** HTTP requests sent to the API server so far, retries included (API-call accounting). */
  get requests(): number {
    return this.sent;
  }

  get server(): string {
    return this.http.serverUrl;
  }

  version(signal?: AbortSignal): Promise<{ gitVersion: string }> {
    return this.http.json('GET', '/version', { retry: true, timeoutMs: 5_000, signal });
  }

  async get(key: ObjectKey): Promise<KubeObject | undefined> {
    try {
      const object = await this.http.json<KubeObject>(
        'GET',
        resourcePath(key.kind, key.namespace, key.name),
        { retry: true },
      );
      return withKind(object, key.kind);
    } catch (error) {
      if (isApiError(error, 'not-found')) return undefined;
      throw error;
    }
  }

  async list(kind: string, namespace?: string, options: ListOptions = {}): Promise<KubeObject[]> {
    return (await this.listWithVersion(kind, namespace, options)).items;
  }

  async listWithVersion(kind: string, namespace?: string, options: ListOptions = {}): Promise<VersionedList> {
    const result = await this.http.json<{ items?: KubeObject[]; metadata?: { resourceVersion?: string } }>(
      'GET',
      resourcePath(kind, namespace),
      {
        retry: true,
        query: {
          labelSelector: options.labelSelector,
          fieldSelector: options.fieldSelector,
          limit: options.limit,
        },
      },
    );
    return {
      items: (result.items ?? []).map((item) => withKind(item, kind)),
      resourceVersion: result.metadata?.resourceVersion ?? '',
    };
  }

  async listPage(kind: string, namespace: string | undefined, options: PageOptions): Promise<ListPage> {
    const result = await this.http.json<{
      items?: KubeObject[];
      metadata?: { continue?: string; remainingItemCount?: number; resourceVersion?: string };
    }>('GET', resourcePath(kind, namespace), {
      retry: true,
      query: {
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        limit: options.limit,
        continue: options.continue,
      },
    });
    const next = result.metadata?.continue;
    return {
      items: (result.items ?? []).map((item) => withKind(item, kind)),
      ...(next ? { continue: next } : {}),
      ...(result.metadata?.remainingItemCount !== undefined
        ? { remainingItemCount: result.metadata.remainingItemCount }
        : {}),
      ...(result.metadata?.resourceVersion ? { resourceVersion: result.metadata.resourceVersion } : {}),
    };
  }

  logs(namespace: string, pod: string, container: string, options: LogOptions = {}): Promise<string> {
    return this.http.text('GET', resourcePath('Pod', namespace, pod, 'log'), {
      retry: true,
      accept: 'application/json, */*',
      query: {
        container,
        previous: options.previous || undefined,
        tailLines: options.tailLines,
        limitBytes: options.limitBytes,
      },
    });
  }

  async patch(
    key: ObjectKey,
    kind: PatchKind,
    patch: unknown,
    options: WriteOptions = {},
  ): Promise<KubeObject> {
    const body = withPrecondition(kind, patch, options.resourceVersion);
    const object = await this.http.json<KubeObject>(
      'PATCH',
      resourcePath(key.kind, key.namespace, key.name),
      {
        body,
        contentType: CONTENT_TYPES[kind],
        query: writeQuery(options),
        retry: options.resourceVersion !== undefined, // a precondition makes a repeat harmless (409)
      },
    );
    return withKind(object, key.kind);
  }

  async create(manifest: KubeObject, options: WriteOptions = {}): Promise<KubeObject> {
    const kind = String(manifest.kind ?? '');
    const object = await this.http.json<KubeObject>(
      'POST',
      resourcePath(kind, manifest.metadata?.namespace),
      {
        body: manifest,
        query: writeQuery(options),
      },
    );
    return withKind(object, kind);
  }

  async replace(object: KubeObject, options: WriteOptions = {}): Promise<KubeObject> {
    const kind = String(object.kind ?? '');
    const body = options.resourceVersion
      ? { ...object, metadata: { ...object.metadata, resourceVersion: options.resourceVersion } }
      : object;
    const result = await this.http.json<KubeObject>(
      'PUT',
      resourcePath(kind, object.metadata?.namespace, object.metadata?.name),
      {
        body,
        query: writeQuery(options),
        retry: body.metadata?.resourceVersion !== undefined,
      },
    );
    return withKind(result, kind);
  }

  async delete(key: ObjectKey, options: WriteOptions = {}): Promise<void> {
    await this.http.json('DELETE', resourcePath(key.kind, key.namespace, key.name), {
      query: { dryRun: options.dryRun ? 'All' : undefined },
      body: options.resourceVersion
        ? {
            kind: 'DeleteOptions',
            apiVersion: 'v1',
            preconditions: { resourceVersion: options.resourceVersion },
          }
        : undefined,
    });
  }

  scale(key: ObjectKey, replicas: number, options: WriteOptions = {}): Promise<KubeObject> {
    return this.http.json<KubeObject>('PATCH', resourcePath(key.kind, key.namespace, key.name, 'scale'), {
      body: withPrecondition('merge', { spec: { replicas } }, options.resourceVersion),
      contentType: CONTENT_TYPES.merge,
      query: writeQuery(options),
    });
  }

  restart(key: ObjectKey, options: WriteOptions = {}): Promise<KubeObject> {
    const patch = {
      spec: {
        template: {
          metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } },
        },
      },
    };
    return this.patch(key, 'strategic', patch, options);
  }

  async rollback(
    key: ObjectKey,
    toRevision: number | undefined,
    options: WriteOptions = {},
  ): Promise<{ object: KubeObject; revision: number }> {
    if (key.kind !== 'Deployment')
      throw new KubernetesApiError(422, `rollback is implemented for Deployments, not ${key.kind}`);
    const deployment = await this.get(key);
    if (!deployment) throw new KubernetesApiError(404, `Deployment ${key.namespace}/${key.name} not found`);
    const uid = deployment.metadata?.uid;
    const current = Number(deployment.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? 0);
    const replicaSets = (await this.list('ReplicaSet', key.namespace)).filter((rs) =>
      (rs.metadata?.ownerReferences ?? []).some((owner) => owner.uid === uid),
    );
    const revisions = replicaSets
      .map((rs) => ({
        rs,
        revision: Number(rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? 0),
      }))
      .filter((entry) => entry.revision > 0)
      .sort((a, b) => b.revision - a.revision);
    const target =
      toRevision !== undefined
        ? revisions.find((entry) => entry.revision === toRevision)
        : revisions.find((entry) => entry.revision < current);
    if (!target)
      throw new KubernetesApiError(
        404,
        `Deployment ${key.name} has no revision ${toRevision ?? 'before ' + current}`,
      );
    const template = structuredClone(
      (target.rs.spec as { template?: KubeObject } | undefined)?.template ?? {},
    );
    delete template.metadata?.labels?.['pod-template-hash'];
    const patch = [{ op: 'replace', path: '/spec/template', value: template }];
    const object = await this.patch(key, 'json', patch, {
      ...options,
      resourceVersion: options.resourceVersion ?? deployment.metadata?.resourceVersion,
    });
    return { object, revision: target.revision };
  }

  cordon(node: string, unschedulable: boolean, options: WriteOptions = {}): Promise<KubeObject> {
    return this.patch({ kind: 'Node', name: node }, 'merge', { spec: { unschedulable } }, options);
  }

  watch(
    kind: string,
    namespace: string | undefined,
    options: WatchOptions,
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    return this.http.watch(
      resourcePath(kind, namespace),
      {
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        resourceVersion: options.resourceVersion,
        timeoutSeconds: options.timeoutSeconds,
        allowWatchBookmarks: true,
      },
      (event) => onEvent({ type: event.type, object: withKind(event.object as KubeObject, kind) }),
      signal,
    );
  }

  async canI(verb: string, kind: string, namespace?: string, name?: string): Promise<boolean> {
    const info = resourceInfo(kind);
    const review = await this.http.json<{ status?: { allowed?: boolean } }>(
      'POST',
      resourcePath('SelfSubjectAccessReview'),
      {
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SelfSubjectAccessReview',
          spec: {
            resourceAttributes: {
              verb,
              group: info?.group ?? '',
              resource: info?.plural ?? kind.toLowerCase(),
              namespace,
              name,
            },
          },
        },
      },
    );
    return review.status?.allowed === true;
  }

  async subjectAccessReview(request: AccessRequest): Promise<KubeObject> {
    const review = await this.http.json<KubeObject>('POST', resourcePath('SubjectAccessReview'), {
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: request.user,
          ...(request.groups ? { groups: [...request.groups] } : {}),
          resourceAttributes: {
            verb: request.verb,
            group: request.group,
            resource: request.resource,
            namespace: request.namespace,
            name: request.name,
            subresource: request.subresource,
          },
        },
      },
      retry: true,
    });
    return withKind(review, 'SubjectAccessReview');
  }

  async whoAmI(): Promise<{ username?: string }> {
    const review = await this.http.json<{ status?: { userInfo?: { username?: string } } }>(
      'POST',
      resourcePath('SelfSubjectReview'),
      { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }, retry: true },
    );
    return { username: review.status?.userInfo?.username };
  }

  async tokenReview(
    token: string,
  ): Promise<{ authenticated: boolean; username?: string; groups?: string[] }> {
    const review = await this.http.json<{
      status?: { authenticated?: boolean; user?: { username?: string; groups?: string[] } };
    }>('POST', resourcePath('TokenReview'), {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
      retry: true,
    });
    return {
      authenticated: review.status?.authenticated === true,
      username: review.status?.user?.username,
      groups: review.status?.user?.groups,
    };
  }
}

function withKind(object: KubeObject, kind: string): KubeObject {
  if (object.kind && object.apiVersion) return object;
  return { apiVersion: apiVersionFor(kind), kind, ...object };
}

/**
 * Optimistic concurrency for a patch: the resourceVersion goes into the patched object, so the API
 * server rejects the write with 409 Conflict if the object changed since it was read.
 */
function withPrecondition(kind: PatchKind, patch: unknown, resourceVersion: string | undefined): unknown {
  if (!resourceVersion) return patch;
  if (kind === 'json') {
    const operations = Array.isArray(patch) ? patch : [];
    return [{ op: 'replace', path: '/metadata/resourceVersion', value: resourceVersion }, ...operations];
  }
  const object = (patch ?? {}) as Record<string, unknown>;
  const metadata = (object.metadata ?? {}) as Record<string, unknown>;
  return { ...object, metadata: { ...metadata, resourceVersion } };
}
