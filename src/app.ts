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
import { loadPolicies } from './config/policies.js';
import type { AiIntegration } from './service/analyze.js';
import { RemediationService, type ServiceDependencies } from './service/remediation-service.js';
import { InMemorySessionStore } from './sessions/in-memory-session-store.js';
import type { SessionStore } from './sessions/store.js';
import { NotificationDispatcher } from './notifications/dispatcher.js';
import { NotifyingSessionStore } from './notifications/notifying-store.js';

export interface Application {
  readonly configuration: Configuration;
  readonly service: RemediationService;
  readonly authenticator: Authenticator;
  readonly cluster?: ClusterGateway;
  readonly sessions: SessionStore;
  readonly audit: AuditRecorder;
  /** Delivers the notification outbox (`serve` starts it; absent without sinks). */
  readonly notifications?: NotificationDispatcher;
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
}

export async function createApplication(
  configuration: Configuration,
  options: ApplicationOptions = {},
): Promise<Application> {
  const policies = loadPolicies(configuration.policyFile);
  const notices: string[] = [];
  let cluster: ClusterGateway | undefined;
  if (options.cluster !== undefined) cluster = options.cluster ?? undefined;
  else {
    const connection = await connectCluster(configuration);
    cluster = connection.gateway;
    if (connection.notice) notices.push(connection.notice);
  }

  let sessions: SessionStore;
  let audit: AuditRecorder;
  let closeStorage = async (): Promise<void> => undefined;
  if (options.ephemeral || configuration.storage.driver === 'memory') {
    sessions = new InMemorySessionStore();
    audit = sessions.audit;
  } else if (configuration.storage.driver === 'postgres') {
    const { openStorage } = await import('./sessions/factory.js');
    const storage = await openStorage({ driver: 'postgres', url: configuration.storage.url! });
    sessions = storage.sessions;
    audit = storage.audit;
    closeStorage = () => storage.close();
  } else {
    const path = configuration.storage.path ?? join(configuration.dataDir, 'kubemend.db');
    mkdirSync(dirname(path), { recursive: true });
    const { openStorage } = await import('./sessions/factory.js');
    const storage = await openStorage({
      driver: 'sqlite',
      path,
      synchronous: configuration.storage.sqliteSynchronous,
      writerThread: configuration.storage.sqliteWriter === 'thread',
    });
    sessions = storage.sessions;
    audit = storage.audit;
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
    sessions,
    audit,
    notices,
    ...(notifications ? { notifications } : {}),
    close: async () => {
      await notifications?.stop();
      await closeStorage();
    },
  };
}
