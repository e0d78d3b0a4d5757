/**
 * Several clusters (`clusters:` in the configuration): each a kubeconfig context with its own
 * gateway and circuit breaker, connected on first use. A request names its cluster by name or by
 * context; none names the default one. A cluster that is down fails its own requests at once with
 * `cluster-unreachable` (503) and leaves every other cluster alone. ADR 0038.
 */
import { ConfigurationError, KubemendError } from '../domain/index.js';
import type { ClusterGateway } from './gateway.js';
import { type BreakerOptions, GuardedGateway } from './guarded-gateway.js';

export interface ClusterRegistryEntry {
  readonly name: string;
  readonly context?: string;
  readonly kubeconfig?: string;
  readonly default?: boolean;
}

/** What the service needs of several clusters (the port; `ClusterRegistry` is the adapter). */
export interface ClusterDirectory {
  readonly names: readonly string[];
  readonly defaultName: string;
  /** The configured name a request's `cluster` (a name or a context) means; `invalid-input` if none. */
  resolve(requested: string | undefined): string;
  /** The cluster's gateway, known to answer now; `cluster-unreachable` at once when it does not. */
  connect(name: string): Promise<ClusterGateway>;
}

export interface ClusterRegistryOptions extends BreakerOptions {
  /** Builds the plain gateway of an entry (default: a KubeClusterGateway from its kubeconfig). */
  readonly open?: (entry: ClusterRegistryEntry) => Promise<ClusterGateway>;
  /** The kubeconfig's current context, to find the default entry (default: none; the first entry). */
  readonly currentContext?: () => string | undefined;
  /** How long one reachability probe may take (default 3 s). */
  readonly probeTimeoutMs?: number;
  /** A request within this long of the cluster's last success skips the probe (default 2 s). */
  readonly freshMs?: number;
}

async function openFromKubeconfig(entry: ClusterRegistryEntry): Promise<ClusterGateway> {
  const { KubeClusterGateway, loadKubeConfig } = await import('./kube-gateway.js');
  try {
    return new KubeClusterGateway(loadKubeConfig({ kubeconfig: entry.kubeconfig, context: entry.context }));
  } catch (cause) {
    throw new ConfigurationError(
      `clusters: "${entry.name}" has no usable kubeconfig (${(cause as Error).message})`,
      { cause },
    );
  }
}

export class ClusterRegistry implements ClusterDirectory {
  private readonly entries: readonly ClusterRegistryEntry[];
  private readonly gateways = new Map<string, Promise<GuardedGateway>>();
  readonly defaultName: string;

  constructor(
    entries: readonly ClusterRegistryEntry[],
    private readonly options: ClusterRegistryOptions = {},
  ) {
    if (entries.length === 0) throw new ConfigurationError('clusters: configure at least one cluster');
    this.entries = entries;
    const current = options.currentContext?.();
    this.defaultName = (
      entries.find((entry) => entry.default === true) ??
      entries.find((entry) => current !== undefined && entry.context === current) ??
      entries[0]!
    ).name;
  }

  get names(): readonly string[] {
    return this.entries.map((entry) => entry.name);
  }

  resolve(requested: string | undefined): string {
    if (requested === undefined) return this.defaultName;
    const entry =
      this.entries.find((candidate) => candidate.name === requested) ??
      this.entries.find((candidate) => candidate.context === requested);
    if (!entry)
      throw new KubemendError(
        'invalid-input',
        `cluster: no cluster named "${requested}" (configured: ${this.names.join(', ')})`,
      );
    return entry.name;
  }

  /** The guarded gateway of a cluster, built on first use (no request is sent). */
  gateway(name: string): Promise<GuardedGateway> {
    let gateway = this.gateways.get(name);
    if (!gateway) {
      const entry = this.entries.find((candidate) => candidate.name === name);
      if (!entry) throw new KubemendError('invalid-input', `cluster: no cluster named "${name}"`);
      gateway = (this.options.open ?? openFromKubeconfig)(entry).then(
        (inner) => new GuardedGateway(name, inner, this.options),
      );
      // A kubeconfig that could not be read is tried again on the next request.
      gateway.catch(() => this.gateways.delete(name));
      this.gateways.set(name, gateway);
    }
    return gateway;
  }

  async connect(name: string): Promise<ClusterGateway> {
    const gateway = await this.gateway(name);
    if (gateway.open) throw gateway.unreachable();
    const now = (this.options.now ?? Date.now)();
    if (now - gateway.lastSuccess <= (this.options.freshMs ?? 2_000)) return gateway;
    await gateway.probe(this.options.probeTimeoutMs ?? 3_000);
    return gateway;
  }

  /** Each cluster's breaker state, for readiness and metrics. */
  async states(): Promise<Record<string, 'closed' | 'open' | 'not-connected'>> {
    const out: Record<string, 'closed' | 'open' | 'not-connected'> = {};
    for (const name of this.names) {
      const pending = this.gateways.get(name);
      const gateway = pending ? await pending.catch(() => undefined) : undefined;
      out[name] = !gateway ? 'not-connected' : gateway.open ? 'open' : 'closed';
    }
    return out;
  }
}
