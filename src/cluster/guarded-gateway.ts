/**
 * A ClusterGateway behind a circuit breaker (cockatiel): after `consecutiveFailures` requests in a
 * row fail because the cluster is unreachable (connection refused, time-out, 502/503/504), every
 * request fails at once with `cluster-unreachable` naming the cluster; after `halfOpenAfterMs` one
 * request is let through to try again. A down cluster then costs its callers nothing, and never
 * slows the requests of another cluster (each has its own breaker). Watches bypass the breaker: a
 * watch is long-lived and the informer backs off on its own.
 */
import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
  type CircuitBreakerPolicy,
} from 'cockatiel';
import { isApiError, KubernetesApiError } from './errors.js';
import type {
  AccessRequest,
  ClusterGateway,
  KubeObject,
  ListOptions,
  ListPage,
  LogOptions,
  ObjectKey,
  PageOptions,
  PatchKind,
  VersionedList,
  WatchEvent,
  WatchOptions,
  WriteOptions,
} from './gateway.js';

export interface BreakerOptions {
  readonly consecutiveFailures?: number;
  readonly halfOpenAfterMs?: number;
  readonly now?: () => number;
}

/** A failure that says the cluster is not there (as opposed to an answer it gave). */
export function isUnreachable(error: unknown): boolean {
  return isApiError(error, 'unreachable') || (isApiError(error) && [502, 503, 504].includes(error.status));
}

export class GuardedGateway implements ClusterGateway {
  readonly breaker: CircuitBreakerPolicy;
  private lastFailure: string | undefined;
  private lastSuccessAt = Number.NEGATIVE_INFINITY;
  private readonly now: () => number;
  private readonly halfOpenAfterMs: number;
  readonly subjectAccessReview?: (request: AccessRequest) => Promise<KubeObject>;
  readonly whoAmI?: () => Promise<{ username?: string }>;

  constructor(
    readonly name: string,
    private readonly inner: ClusterGateway,
    options: BreakerOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.halfOpenAfterMs = options.halfOpenAfterMs ?? 10_000;
    this.breaker = circuitBreaker(handleWhen(isUnreachable), {
      halfOpenAfter: this.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(options.consecutiveFailures ?? 3),
    });
    const review = inner.subjectAccessReview?.bind(inner);
    if (review) this.subjectAccessReview = (request) => this.guard(() => review(request));
    const whoAmI = inner.whoAmI?.bind(inner);
    if (whoAmI) this.whoAmI = () => this.guard(() => whoAmI());
  }

  get server(): string {
    return this.inner.server;
  }

  /** True while the breaker fails requests at once. */
  get open(): boolean {
    return this.breaker.state === CircuitState.Open;
  }

  /** When a request last succeeded (epoch milliseconds). */
  get lastSuccess(): number {
    return this.lastSuccessAt;
  }

  /** Runs one request through the breaker; an open breaker is `cluster-unreachable` at once. */
  async guard<T>(request: () => Promise<T>): Promise<T> {
    try {
      const result = await this.breaker.execute(request);
      this.lastSuccessAt = this.now();
      return result;
    } catch (error) {
      if (error instanceof BrokenCircuitError) throw this.unreachable();
      if (isUnreachable(error)) this.lastFailure = (error as Error).message.split('\n')[0];
      // Still a KubernetesApiError (status 0: `cluster-unreachable`), now naming the cluster.
      if (isApiError(error, 'unreachable'))
        throw new KubernetesApiError(0, `cluster "${this.name}" (${this.server}): ${error.message}`, {
          cause: error,
        });
      throw error;
    }
  }

  /** GET /version within `timeoutMs`, through the breaker (no answer in time counts as a failure). */
  async probe(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await this.guard(() =>
        Promise.race([
          this.inner.version(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(
              () => reject(new KubernetesApiError(0, `no answer to GET /version within ${timeoutMs} ms`)),
              timeoutMs,
            );
          }),
        ]),
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /** The error an open breaker answers with (`cluster-unreachable`). */
  unreachable(): KubernetesApiError {
    return new KubernetesApiError(
      0,
      `cluster "${this.name}" (${this.server}) is unreachable${this.lastFailure ? ` (${this.lastFailure})` : ''}: ` +
        `its requests fail at once until it answers again (tried again within ${Math.round(this.halfOpenAfterMs / 1000)} s)`,
    );
  }

  version(): Promise<{ gitVersion: string }> {
    return this.guard(() => this.inner.version());
  }
  get(key: ObjectKey): Promise<KubeObject | undefined> {
    return this.guard(() => this.inner.get(key));
  }
  list(kind: string, namespace?: string, options?: ListOptions): Promise<KubeObject[]> {
    return this.guard(() => this.inner.list(kind, namespace, options));
  }
  listWithVersion(kind: string, namespace?: string, options?: ListOptions): Promise<VersionedList> {
    return this.guard(() => this.inner.listWithVersion(kind, namespace, options));
  }
  listPage(kind: string, namespace: string | undefined, options: PageOptions): Promise<ListPage> {
    return this.guard(() => this.inner.listPage(kind, namespace, options));
  }
  logs(namespace: string, pod: string, container: string, options?: LogOptions): Promise<string> {
    return this.guard(() => this.inner.logs(namespace, pod, container, options));
  }
  patch(key: ObjectKey, kind: PatchKind, patch: unknown, options?: WriteOptions): Promise<KubeObject> {
    return this.guard(() => this.inner.patch(key, kind, patch, options));
  }
  create(manifest: KubeObject, options?: WriteOptions): Promise<KubeObject> {
    return this.guard(() => this.inner.create(manifest, options));
  }
  replace(object: KubeObject, options?: WriteOptions): Promise<KubeObject> {
    return this.guard(() => this.inner.replace(object, options));
  }
  delete(key: ObjectKey, options?: WriteOptions): Promise<void> {
    return this.guard(() => this.inner.delete(key, options));
  }
  scale(key: ObjectKey, replicas: number, options?: WriteOptions): Promise<KubeObject> {
    return this.guard(() => this.inner.scale(key, replicas, options));
  }
  restart(key: ObjectKey, options?: WriteOptions): Promise<KubeObject> {
    return this.guard(() => this.inner.restart(key, options));
  }
  rollback(
    key: ObjectKey,
    toRevision: number | undefined,
    options?: WriteOptions,
  ): Promise<{ object: KubeObject; revision: number }> {
    return this.guard(() => this.inner.rollback(key, toRevision, options));
  }
  cordon(node: string, unschedulable: boolean, options?: WriteOptions): Promise<KubeObject> {
    return this.guard(() => this.inner.cordon(node, unschedulable, options));
  }
  watch(
    kind: string,
    namespace: string | undefined,
    options: WatchOptions,
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    return this.inner.watch(kind, namespace, options, onEvent, signal);
  }
  canI(verb: string, kind: string, namespace?: string, name?: string): Promise<boolean> {
    return this.guard(() => this.inner.canI(verb, kind, namespace, name));
  }
  tokenReview(token: string): Promise<{ authenticated: boolean; username?: string; groups?: string[] }> {
    return this.guard(() => this.inner.tokenReview(token));
  }
}
