/**
 * The composition root: one place that turns a Configuration into a working service — policies,
 * cluster connection, storage (sessions and audit), authentication. Interfaces call this; tests
 * call it too, so they exercise the factory production uses.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AuditRecorder } from './audit/recorder.js';
import { Authenticator } from './auth/authenticator.js';
import { connectCluster } from './cluster/connect.js';
import type { ClusterGateway } from './cluster/gateway.js';
import type { Configuration } from './config/configuration.js';
import { clusterPolicies, loadPolicies, type PolicySet } from './config/policies.js';
import { ClusterRegistry, type ClusterRegistryOptions } from './cluster/registry.js';
import type { AiIntegration } from './service/analyze.js';
import { RemediationService, type ServiceDependencies } from './service/remediation-service.js';
import { InMemorySessionStore } from './sessions/in-memory-session-store.js';
import type { SessionStore } from './sessions/store.js';
import { NotificationDispatcher } from './notifications/dispatcher.js';
import { NotifyingSessionStore } from './notifications/notifying-store.js';
import { type IncidentStore, InMemoryIncidentStore } from './sessions/incidents.js';
import type { WatchTarget } from './watch/start.js';

export interface Application {
  readonly configuration: Configuration;
  readonly service: RemediationService;
  readonly authenticator: Authenticator;
  readonly cluster?: ClusterGateway;
  /** Several clusters (`clusters:`): each connected on first use, behind its own circuit breaker. */
  readonly clusters?: ClusterRegistry;
  readonly sessions: SessionStore;
  readonly audit: AuditRecorder;
  /** Delivers the notification outbox (`serve` starts it; absent without sinks). */
  readonly notifications?: NotificationDispatcher;
  /** The watcher's durable incidents (same database as the sessions). */
  readonly incidents: IncidentStore;
  /** The clusters `watch` watches (`watch.clusters`, default the default cluster), with their gateways. */
  watchTargets(): Promise<WatchTarget[]>;
  /** Caveats about how the application started (e.g. cluster unreachable). */
  readonly notices: readonly string[];
  close(): Promise<void>;
}

export interface ApplicationOptions {
  /** Use this cluster instead of connecting from the configuration (tests). */
  readonly cluster?: ClusterGateway | null;
  /** A ready AI integration (tests); overrides `configuration.ai`. */
  readonly ai?: AiIntegration;
  readonly actor?: string;
  readonly engine?: ServiceDependencies['engine'];
  /** Scan tuning (tests). */
  readonly scan?: ServiceDependencies['scan'];
  /** Keep sessions and audit in memory whatever the configuration says (single-shot CLI runs). */
  readonly ephemeral?: boolean;
  /** A one-shot run (the CLI's analyze): `storage.sqliteWriter: auto` writes inline. */
  readonly oneShot?: boolean;
  /** Builds the gateway of a `clusters:` entry (tests; default: from its kubeconfig context). */
  readonly openCluster?: ClusterRegistryOptions['open'];
}

/** `clusters:` → a registry and each cluster's policies; undefined with one cluster. */
async function severalClusters(
  configuration: Configuration,
  options: ApplicationOptions,
): Promise<{ registry: ClusterRegistry; policies: Map<string, PolicySet> } | undefined> {
  if (!configuration.clusters || configuration.cluster.offline) return undefined;
  let current: string | undefined;
  try {
    const { loadKubeConfig } = await import('./cluster/kube-gateway.js');
    current = loadKubeConfig({ kubeconfig: configuration.cluster.kubeconfig }).getCurrentContext();
  } catch {
    current = undefined; // no default kubeconfig: the entries name their own
  }
  const registry = new ClusterRegistry(
    configuration.clusters.map((entry) => ({
      name: entry.name,
      ...(entry.context !== undefined ? { context: entry.context } : {}),
      ...((entry.kubeconfig ?? configuration.cluster.kubeconfig) !== undefined
        ? { kubeconfig: entry.kubeconfig ?? configuration.cluster.kubeconfig }
        : {}),
      ...(entry.default !== undefined ? { default: entry.default } : {}),
    })),
    { currentContext: () => current, ...(options.openCluster ? { open: options.openCluster } : {}) },
  );
  const policies = new Map(
    configuration.clusters.map((entry) => [entry.name, clusterPolicies(entry, configuration.policyFile)]),
  );
  return { registry, policies };
}

export async function createApplication(
  configuration: Configuration,
  options: ApplicationOptions = {},
): Promise<Application> {
  const policies = loadPolicies(configuration.policyFile);
  const notices: string[] = [];
  let cluster: ClusterGateway | undefined;
  let clusterName: string | undefined;
  const several = options.cluster === undefined ? await severalClusters(configuration, options) : undefined;
  if (options.cluster !== undefined) cluster = options.cluster ?? undefined;
  else if (several) {
    // Built, not contacted: a cluster that is down makes only its own requests fail.
    cluster = await several.registry.gateway(several.registry.defaultName).catch((error: unknown) => {
      notices.push(`cluster ${several.registry.defaultName}: ${(error as Error).message}`);
      return undefined;
    });
  } else {
    const connection = await connectCluster(configuration);
    cluster = connection.gateway;
    clusterName = connection.name;
    if (connection.notice) notices.push(connection.notice);
  }

  let sessions: SessionStore;
  let audit: AuditRecorder;
  let incidents: IncidentStore = new InMemoryIncidentStore();
  let closeStorage = async (): Promise<void> => undefined;
  if (options.ephemeral || configuration.storage.driver === 'memory') {
    sessions = new InMemorySessionStore();
    audit = sessions.audit;
  } else if (configuration.storage.driver === 'postgres') {
    const { openStorage } = await import('./sessions/factory.js');
    const storage = await openStorage({
      driver: 'postgres',
      url: configuration.storage.url!,
      ...(configuration.storage.schema ? { schema: configuration.storage.schema } : {}),
    });
    sessions = storage.sessions;
    audit = storage.audit;
    incidents = storage.incidents;
    closeStorage = () => storage.close();
  } else {
    const path = configuration.storage.path ?? join(configuration.dataDir, 'kubemend.db');
    mkdirSync(dirname(path), { recursive: true });
    const { openStorage } = await import('./sessions/factory.js');
    const storage = await openStorage({
      driver: 'sqlite',
      path,
      synchronous: configuration.storage.sqliteSynchronous,
      writerThread:
        configuration.storage.sqliteWriter === 'thread' ||
        (configuration.storage.sqliteWriter === 'auto' && options.oneShot !== true),
    });
    sessions = storage.sessions;
    audit = storage.audit;
    incidents = storage.incidents;
    closeStorage = () => storage.close();
  }

  // With sinks configured, every notified state change writes its outbox rows in its transaction.
  const sinks = configuration.notifications.sinks;
  if (sinks.length > 0) sessions = new NotifyingSessionStore(sessions, sinks);
  const notifications =
    sinks.length > 0
      ? new NotificationDispatcher({ sessions, section: configuration.notifications })
      : undefined;

  let ai = options.ai;
  if (!ai && configuration.ai.provider !== 'none') {
    // Loaded only when a provider is configured: the rules-only path stays light.
    const { aiBudgetFrom, createAiAnalyzer, mergeFindings } = await import('./analysis/ai/index.js');
    const analyzer = createAiAnalyzer(configuration.ai);
    if (analyzer) {
      ai = {
        analyzer,
        budget: aiBudgetFrom(configuration.ai),
        merge: (rules, finding) => mergeFindings(rules, finding),
      };
    }
  } else if (!ai && configuration.ai.reason) {
    notices.push(`rules only: ${configuration.ai.reason}`);
  }

  const service = new RemediationService({
    configuration,
    policies,
    cluster,
    ...(clusterName !== undefined ? { clusterName } : {}),
    ...(several ? { clusters: several.registry, clusterPolicies: several.policies } : {}),
    sessions,
    audit,
    ai,
    actor: options.actor,
    engine: options.engine,
    scan: options.scan,
  });
  return {
    configuration,
    service,
    authenticator: new Authenticator(configuration.auth, cluster),
    cluster,
    ...(several ? { clusters: several.registry } : {}),
    sessions,
    audit,
    incidents,
    async watchTargets() {
      if (several) {
        const names = configuration.watch.clusters ?? [several.registry.defaultName];
        return Promise.all(
          names.map(async (name) => ({
            name,
            gateway: await several.registry.gateway(name),
            requestCluster: name,
          })),
        );
      }
      if (!cluster) return [];
      return [{ name: clusterName ?? 'default', gateway: cluster }];
    },
    notices,
    ...(notifications ? { notifications } : {}),
    close: async () => {
      await notifications?.stop();
      await closeStorage();
    },
  };
}
