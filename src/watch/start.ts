/**
 * Starting the watchers the configuration asks for: one per watched cluster (`watch.clusters`,
 * default the default cluster), each over the opted-in namespaces, with the configured mode,
 * policy, debounce and cooldown.
 */
import type { ClusterGateway } from '../cluster/gateway.js';
import type { WatchConfiguration } from '../config/clusters.js';
import { parseDuration } from '../planning/policy.js';
import type { IncidentStore } from '../sessions/incidents.js';
import type { SessionPort } from './opener.js';
import { Watcher, type WatcherLogger, type WatcherOptions } from './watcher.js';

export interface WatchTarget {
  /** The cluster's name (incident keys, logs). */
  readonly name: string;
  readonly gateway: ClusterGateway;
  /** The `cluster` its sessions' requests name (with several clusters). */
  readonly requestCluster?: string;
}

export interface Watching {
  readonly watchers: readonly Watcher[];
  stop(): Promise<void>;
}

export function startWatchers(
  watch: WatchConfiguration,
  targets: readonly WatchTarget[],
  dependencies: {
    readonly incidents: IncidentStore;
    readonly sessions: SessionPort;
    readonly logger: WatcherLogger;
    readonly onIncident?: WatcherOptions['onIncident'];
    readonly watchTimeoutSeconds?: number;
  },
): Watching {
  const watchers = targets.map(
    (target) =>
      new Watcher({
        cluster: target.name,
        ...(target.requestCluster !== undefined ? { requestCluster: target.requestCluster } : {}),
        gateway: target.gateway,
        namespaces: watch.namespaces,
        debounceMs: parseDuration(watch.debounce),
        cooldownMs: parseDuration(watch.cooldown),
        mode: watch.mode,
        ...(watch.policy !== undefined ? { policy: watch.policy } : {}),
        incidents: dependencies.incidents,
        sessions: dependencies.sessions,
        logger: dependencies.logger,
        ...(dependencies.onIncident ? { onIncident: dependencies.onIncident } : {}),
        ...(dependencies.watchTimeoutSeconds
          ? { watchTimeoutSeconds: dependencies.watchTimeoutSeconds }
          : {}),
      }),
  );
  for (const watcher of watchers) watcher.start();
  return {
    watchers,
    stop: async () => {
      await Promise.all(watchers.map((watcher) => watcher.stop()));
    },
  };
}
