/**
 * `kubemend watch`: the event-driven trigger for teams without Alertmanager. Watches pods, Warning
 * events and workloads in the opted-in namespaces and opens one session per failing workload
 * (debounced, deduplicated durably, cooldown per workload), with the configured mode and policy.
 * Runs until SIGINT/SIGTERM. See docs/watch.md.
 */
import { createApplication } from '../../app.js';
import { stderrLogger } from '../../service/remediation-service.js';
import { startWatchers } from '../../watch/start.js';
import { type CommonFlags, configurationFrom, UsageError } from './options.js';
import { stopSignal } from './signals.js';

export interface WatchFlags extends CommonFlags {
  namespace?: string;
  mode?: string;
  policy?: string;
  debounce?: string;
  cooldown?: string;
  cluster?: string;
}

function list(value: string | undefined): string[] | undefined {
  const items = value
    ?.split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  return items && items.length > 0 ? items : undefined;
}

export function watchConfiguration(flags: WatchFlags) {
  const namespaces = list(flags.namespace);
  const clusters = list(flags.cluster);
  const configuration = configurationFrom(flags, {
    watch: {
      ...(namespaces ? { namespaces } : {}),
      ...(clusters ? { clusters } : {}),
      ...(flags.mode ? { mode: flags.mode } : {}),
      ...(flags.policy ? { policy: flags.policy } : {}),
      ...(flags.debounce ? { debounce: flags.debounce } : {}),
      ...(flags.cooldown ? { cooldown: flags.cooldown } : {}),
    },
  });
  if (configuration.watch.namespaces.length === 0)
    throw new UsageError('watch: name the namespaces to watch (-n shop,payments, or watch.namespaces)');
  return configuration;
}

export async function watch(flags: WatchFlags): Promise<number> {
  const logger = { current: undefined as ReturnType<typeof stderrLogger> | undefined };
  const stopped = stopSignal(() =>
    logger.current ? { warn: (message: string) => logger.current!.warn({}, message) } : undefined,
  );
  const configuration = watchConfiguration(flags);
  const log = stderrLogger(configuration.logLevel);
  logger.current = log;
  const app = await createApplication(configuration, { actor: 'kubemend-watch' });
  for (const notice of app.notices) log.warn({}, notice);
  const targets = await app.watchTargets();
  if (targets.length === 0) {
    await app.close();
    throw new UsageError('watch: no cluster to watch (no kubeconfig found, or --offline)');
  }
  const background = await app.service.startBackgroundWork({ logger: log });
  const watching = startWatchers(configuration.watch, targets, {
    incidents: app.incidents,
    sessions: app.service,
    logger: log,
  });
  log.info(
    { clusters: targets.map((target) => target.name), namespaces: configuration.watch.namespaces },
    `watching ${configuration.watch.namespaces.join(', ')} in ${targets.map((target) => target.name).join(', ')} (mode ${configuration.watch.mode})`,
  );
  await stopped;
  await watching.stop();
  await background.stop();
  await app.close();
  return 0;
}
