/**
 * ClusterGateway: everything kubemend does to a cluster, as a port. Analysis and planning never
 * see it; live-context gathering reads through it; the execution engine writes through it.
 * Adapters: KubeClusterGateway (the real API server); tests add fakes for unit tests only.
 */
export interface ObjectKey {
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

/** The field manager every kubemend write is made under (visible in `metadata.managedFields`). */
export const FIELD_MANAGER = 'kubemend';

export type KubeObject = Record<string, unknown> & {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: Array<Record<string, unknown>>;
    deletionTimestamp?: string;
    managedFields?: Array<{ manager?: string; operation?: string; time?: string }>;
    [key: string]: unknown;
  };
};

export interface ListOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** At most this many items (per page, with `listPage`). */
  readonly limit?: number;
}

export interface PageOptions extends ListOptions {
  /** The `continue` token of the previous page; absent for the first page. */
  readonly continue?: string;
}

/** One page of a paginated LIST (`limit`/`continue`). */
export interface ListPage {
  readonly items: KubeObject[];
  /** The token for the next page; absent on the last one. */
  readonly continue?: string;
  /** How many items the server says remain after this page, when it knows. */
  readonly remainingItemCount?: number;
  /**
   * The list's resourceVersion (the same on every page of one LIST): a watch started from it sees
   * every change after the list, none twice.
   */
  readonly resourceVersion?: string;
}

export interface WatchOptions extends ListOptions {
  readonly resourceVersion?: string;
  /** The server ends the watch after this many seconds (a clean end: watch again from the last version). */
  readonly timeoutSeconds?: number;
}

export interface WriteOptions {
  /** Server-side dry run: every admission and validation step, nothing persisted. */
  readonly dryRun?: boolean;
  /** Optimistic concurrency: the write fails with 409 unless the object still has this version. */
  readonly resourceVersion?: string;
}

export interface LogOptions {
  readonly previous?: boolean;
  readonly tailLines?: number;
  readonly limitBytes?: number;
}

export type PatchKind = 'strategic' | 'merge' | 'json';

export interface VersionedList {
  readonly items: KubeObject[];
  readonly resourceVersion: string;
}

export interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR' | string;
  readonly object: KubeObject;
}

export interface ClusterGateway {
  /** The API server URL (for messages and audit). */
  readonly server: string;
  /** The server's version; `signal` abandons the request (and its retries). */
  version(signal?: AbortSignal): Promise<{ gitVersion: string }>;
  get(key: ObjectKey): Promise<KubeObject | undefined>;
  list(kind: string, namespace?: string, options?: ListOptions): Promise<KubeObject[]>;
  /** A list and the collection's resourceVersion, to watch from (list, then watch). */
  listWithVersion(kind: string, namespace?: string, options?: ListOptions): Promise<VersionedList>;
  /**
   * One page of a LIST: pass `limit`, then each answer's `continue` until it is absent. A token the
   * server no longer honours fails with 410 Gone (start again).
   */
  listPage(kind: string, namespace: string | undefined, options: PageOptions): Promise<ListPage>;
  logs(namespace: string, pod: string, container: string, options?: LogOptions): Promise<string>;
  patch(key: ObjectKey, kind: PatchKind, patch: unknown, options?: WriteOptions): Promise<KubeObject>;
  create(manifest: KubeObject, options?: WriteOptions): Promise<KubeObject>;
  /** PUT the object (its metadata.resourceVersion is the precondition). */
  replace(object: KubeObject, options?: WriteOptions): Promise<KubeObject>;
  delete(key: ObjectKey, options?: WriteOptions): Promise<void>;
  scale(key: ObjectKey, replicas: number, options?: WriteOptions): Promise<KubeObject>;
  /** `kubectl rollout restart`: stamp the pod template so the controller replaces its pods. */
  restart(key: ObjectKey, options?: WriteOptions): Promise<KubeObject>;
  /** `kubectl rollout undo`: put the template of a ReplicaSet revision back on the Deployment. */
  rollback(
    key: ObjectKey,
    toRevision: number | undefined,
    options?: WriteOptions,
  ): Promise<{ object: KubeObject; revision: number }>;
  cordon(node: string, unschedulable: boolean, options?: WriteOptions): Promise<KubeObject>;
  /**
   * A WATCH from `resourceVersion`: `onEvent` for each event (BOOKMARKs included) until the signal
   * aborts or the server ends the watch (resolves). A version the server no longer has fails with
   * 410 Gone — at once (KubernetesApiError 410) or as an ERROR event whose object is a Status with
   * `code: 410`: list again. See `Informer` (informer.ts) for the loop built on this.
   */
  watch(
    kind: string,
    namespace: string | undefined,
    options: WatchOptions,
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
  ): Promise<void>;
  /** SelfSubjectAccessReview: may the current identity do this? */
  canI(verb: string, kind: string, namespace?: string, name?: string): Promise<boolean>;
  /** TokenReview: who does this bearer token belong to, according to the API server? */
  tokenReview(token: string): Promise<{ authenticated: boolean; username?: string; groups?: string[] }>;
  /**
   * SubjectAccessReview: may `user` (e.g. `system:serviceaccount:ns:sa`) do this? The API server's
   * answer as the object it returns (spec and status). Optional: adapters without it are read-only
   * fakes; live gathering then skips the confirmation.
   */
  subjectAccessReview?(request: AccessRequest): Promise<KubeObject>;
  /** SelfSubjectReview: the user name the API server sees for kubemend (optional, as above). */
  whoAmI?(): Promise<{ username?: string }>;
}

/** One request to authorise: a verb on a resource (plural) of an API group, in a namespace. */
export interface AccessRequest {
  readonly user: string;
  readonly groups?: readonly string[];
  readonly verb: string;
  readonly resource: string;
  readonly group: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: string;
}
