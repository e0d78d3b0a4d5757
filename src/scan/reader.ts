/**
 * Reading a scan's objects: one paginated LIST (`limit`/`continue`) per kind and namespace set,
 * through one concurrency bound shared by every read of the scan, each page handed on and dropped.
 * Across all namespaces a LIST is one request per page; an identity that may not list cluster-wide
 * (kubemend's least-privilege ServiceAccount is bound per namespace) falls back to one LIST per
 * namespace it can see, and the namespaces it may not read are reported, not guessed at.
 */
import { bulkhead, type BulkheadPolicy } from 'cockatiel';
import { CLUSTER_SCOPED_KINDS } from '../domain/index.js';
import type { ClusterGateway, KubeObject, ListOptions, ListPage, LogOptions } from '../cluster/gateway.js';

/** The label and field selectors of a LIST. */
export type Selectors = Pick<ListOptions, 'labelSelector' | 'fieldSelector'>;
import { isApiError } from '../cluster/errors.js';

/** Which namespaces a LIST covers: all of them (optionally kept to some), or the named ones. */
export type NamespaceSet =
  | { readonly all: true; readonly only?: ReadonlySet<string> }
  | { readonly all: false; readonly names: readonly string[] };

export interface ReaderOptions {
  /** Items per page (kubectl's default is 500). */
  readonly pageSize?: number;
  /** Requests in flight at once, for the whole scan. */
  readonly concurrency?: number;
}

const MAX_QUEUE = Number.MAX_SAFE_INTEGER;
/** The key of refusals that are not about one namespace. */
const CLUSTER = '';

export class ScanReader {
  /** Requests sent (pages, log reads), for the report. */
  calls = 0;
  partial = false;
  readonly notes: string[] = [];
  /** Namespace → kinds it was not permitted to list there. */
  readonly forbidden = new Map<string, Set<string>>();
  private readonly pool: BulkheadPolicy;
  private readonly pageSize: number;
  private namespaces?: Promise<string[] | undefined>;

  constructor(
    private readonly gateway: ClusterGateway,
    options: ReaderOptions = {},
  ) {
    this.pool = bulkhead(options.concurrency ?? 6, MAX_QUEUE);
    this.pageSize = options.pageSize ?? 500;
  }

  /** One request through the concurrency bound, counted. */
  call<T>(request: () => Promise<T>): Promise<T> {
    return this.pool.execute(() => {
      this.calls++;
      return request();
    });
  }

  /** A container's log tail; undefined (and a note) when it cannot be read. */
  async logs(namespace: string, pod: string, container: string, options: LogOptions): Promise<string> {
    try {
      return await this.call(() => this.gateway.logs(namespace, pod, container, options));
    } catch (error) {
      this.note(`logs ${namespace}/${pod}/${container}${options.previous ? ' (previous)' : ''}`, error);
      return '';
    }
  }

  /**
   * Every object of `kind` in `namespaces`, page by page into `sink`. Failures are notes (the scan is
   * then partial), never exceptions: one unreadable kind must not hide the rest of the cluster.
   */
  async list(
    kind: string,
    namespaces: NamespaceSet,
    selectors: Selectors,
    sink: (item: KubeObject) => void,
    options: { readonly optional?: boolean } = {},
  ): Promise<void> {
    if (CLUSTER_SCOPED_KINDS.has(kind)) {
      await this.listIn(kind, undefined, selectors, sink, false, options.optional);
      return;
    }
    if (!namespaces.all) {
      await Promise.all(
        namespaces.names.map((ns) => this.listIn(kind, ns, selectors, sink, false, options.optional)),
      );
      return;
    }
    const only = namespaces.only;
    const keep = only
      ? (item: KubeObject) => {
          if (only.has(item.metadata?.namespace ?? '')) sink(item);
        }
      : sink;
    const whole = await this.listIn(kind, undefined, selectors, keep, true, options.optional);
    if (whole !== 'forbidden') return;
    // Not permitted across the cluster: one LIST per namespace this identity can see.
    const visible = only ? [...only] : await this.visibleNamespaces();
    if (!visible) {
      this.refused(CLUSTER, kind);
      return;
    }
    await Promise.all(visible.map((ns) => this.listIn(kind, ns, selectors, sink, false, options.optional)));
  }

  /** Namespace names, read once per scan; undefined (with a note) when they cannot be listed. */
  visibleNamespaces(): Promise<string[] | undefined> {
    this.namespaces ??= (async () => {
      const names: string[] = [];
      const outcome = await this.listIn('Namespace', undefined, {}, (item) => {
        if (item.metadata?.name) names.push(item.metadata.name);
      });
      return outcome === 'ok' ? names : undefined;
    })();
    return this.namespaces;
  }

  /** A summary of what was not permitted, one note per namespace. */
  forbiddenNotes(): string[] {
    return [...this.forbidden.entries()].map(
      ([scope, kinds]) =>
        `${scope === CLUSTER ? 'across the cluster' : `namespace ${scope}`}: not permitted to list ${[...kinds].sort().join(', ')}`,
    );
  }

  private async listIn(
    kind: string,
    namespace: string | undefined,
    selectors: Selectors,
    sink: (item: KubeObject) => void,
    quietForbidden = false,
    /** A kind the cluster may not serve (metrics.k8s.io): its failure is no note. */
    optional = false,
  ): Promise<'ok' | 'forbidden' | 'failed'> {
    let token: string | undefined;
    let restarted = false;
    do {
      let page: ListPage;
      try {
        page = await this.call(() =>
          this.gateway.listPage(kind, namespace, { ...selectors, limit: this.pageSize, continue: token }),
        );
      } catch (error) {
        if (token && !restarted && isApiError(error) && error.status === 410) {
          // The continue token expired (the list took longer than etcd keeps it): start again once.
          restarted = true;
          token = undefined;
          continue;
        }
        const forbidden = isApiError(error, 'forbidden');
        if (forbidden && quietForbidden) return 'forbidden';
        if (optional) return 'failed';
        if (forbidden) {
          this.refused(namespace ?? CLUSTER, kind);
          return 'forbidden';
        }
        this.note(`list ${kind}${namespace ? ` in ${namespace}` : ''}`, error);
        return 'failed';
      }
      for (const item of page.items) sink(item);
      token = page.continue;
    } while (token);
    return 'ok';
  }

  private refused(scope: string, kind: string): void {
    this.partial = true;
    const kinds = this.forbidden.get(scope) ?? new Set<string>();
    kinds.add(kind);
    this.forbidden.set(scope, kinds);
  }

  private note(what: string, error: unknown): void {
    this.partial = true;
    const message = error instanceof Error ? error.message.split('\n')[0]!.slice(0, 160) : String(error);
    this.notes.push(`${what}: ${message}`);
  }
}
