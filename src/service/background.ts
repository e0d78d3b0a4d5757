/**
 * The work a long-running kubemend (`serve`, `mcp`) does besides answering: the audit chain's
 * verification (whole at start-up, then incrementally every `audit.verifyInterval`), crash
 * reconciliation at start-up and every half lease (never two at once), the shadow observer (at
 * start-up, then every `shadow.pollInterval`), and the hourly retention purge of terminal
 * sessions and of outcome records no policy reads any more. Reports go to the logger the caller gives.
 */
import { parseDuration } from '../planning/policy.js';
import type { ServiceContext, ServiceLogger } from './context.js';
import { outcomeRetentionMs } from './history.js';
import { reconcile, type ReconcileReport } from './reconciliation.js';
import { observeShadowSessions } from './shadow.js';

export interface BackgroundOptions {
  readonly logger: ServiceLogger;
  /** Default: half the execution lease, at least a second. */
  readonly reconcileIntervalMs?: number;
  /** Default: an hour. */
  readonly purgeIntervalMs?: number;
  /** Default: `audit.verifyInterval`. */
  readonly verifyIntervalMs?: number;
  /** Default: `shadow.pollInterval`. */
  readonly shadowIntervalMs?: number;
}

export interface BackgroundWork {
  /** What start-up reconciliation did. */
  readonly startup: ReconcileReport;
  /** Stops the timers and waits for a reconciliation or purge in progress. */
  stop(): Promise<void>;
}

/** `retention` such as `30d`, `12h`: milliseconds. */
export function retentionMs(text: string): number {
  const days = /^(\d+)d$/.exec(text);
  return days ? Number(days[1]) * 86_400_000 : parseDuration(text);
}

function logReport(logger: ServiceLogger, report: ReconcileReport): void {
  for (const session of report.sessions)
    logger.warn({ session: session.id, state: session.state }, session.note);
}

/** Runs start-up reconciliation (its failure is the caller's), then starts the timers. */
export async function startBackgroundWork(
  ctx: ServiceContext,
  options: BackgroundOptions,
  work: {
    /** Every cluster's reconciliation (default: `ctx`'s). */
    readonly reconcile?: () => Promise<ReconcileReport>;
    /** One round of the shadow observer, each session read from its cluster (default: `ctx`'s). */
    readonly observeShadow?: () => Promise<number>;
  } = {},
): Promise<BackgroundWork> {
  const reconcileAll = work.reconcile ?? (() => reconcile(ctx));
  const observeRound = work.observeShadow ?? (() => observeShadowSessions(ctx, options.logger));
  const { logger } = options;
  // The whole chain at start (an error is logged, and executions refused, if it is broken).
  await ctx.integrity.check();
  const startup = await reconcileAll();
  logReport(logger, startup);
  if (startup.deferred > 0)
    logger.warn(
      { deferred: startup.deferred },
      `${startup.deferred} session(s) are executing under another instance's lease; they are restored if it lapses (storage.executionLease)`,
    );
  const inFlight = new Set<Promise<void>>();
  const track = (work: Promise<void>) => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };
  let reconciling = false;
  // Sessions another instance was executing are taken over once their lease lapses (a crashed
  // replica, or this process's own previous life if it restarted within the lease).
  const reconciler = setInterval(
    () => {
      if (reconciling) return;
      reconciling = true;
      track(
        reconcileAll()
          .then(
            (report) => logReport(logger, report),
            (error: unknown) => logger.error({ err: error }, 'reconciliation failed'),
          )
          .finally(() => {
            reconciling = false;
          }),
      );
    },
    options.reconcileIntervalMs ?? Math.max(1_000, Math.floor(ctx.leaseMs / 2)),
  );
  reconciler.unref();
  // Then only what was appended since the last good record (the whole chain while it is broken).
  let verifying = false;
  const verifier = setInterval(
    () => {
      if (verifying) return;
      verifying = true;
      track(
        ctx.integrity
          .check()
          .then(() => undefined)
          .finally(() => {
            verifying = false;
          }),
      );
    },
    options.verifyIntervalMs ?? parseDuration(ctx.dependencies.configuration.audit.verifyInterval),
  );
  verifier.unref();
  // Shadow sessions' windows (ADR 0035): at start-up too, so a window that ended while kubemend
  // was down settles at once, and one still open continues from the store.
  let observing = false;
  const observeShadow = () => {
    if (observing) return;
    observing = true;
    track(
      observeRound()
        .then(
          () => undefined,
          (error: unknown) => logger.error({ err: error }, 'shadow observation failed'),
        )
        .finally(() => {
          observing = false;
        }),
    );
  };
  observeShadow();
  const observer = setInterval(
    observeShadow,
    options.shadowIntervalMs ?? parseDuration(ctx.dependencies.configuration.shadow.pollInterval),
  );
  observer.unref();
  const retention = retentionMs(ctx.dependencies.configuration.storage.retention);
  const outcomeRetention = outcomeRetentionMs(ctx, retention);
  const purger = setInterval(() => {
    const now = ctx.clock().getTime();
    const before = new Date(now - retention).toISOString();
    const outcomesBefore = new Date(now - outcomeRetention).toISOString();
    track(
      Promise.all([ctx.sessions.purge(before), ctx.sessions.purgeOutcomes(outcomesBefore)]).then(
        ([purged, outcomes]) => {
          if (purged > 0) logger.info({ purged, before }, 'retention purge deleted terminal sessions');
          if (outcomes > 0)
            logger.info({ outcomes, before: outcomesBefore }, 'retention purge deleted outcome records');
        },
        (error: unknown) => logger.error({ err: error }, 'retention purge failed'),
      ),
    );
  }, options.purgeIntervalMs ?? 3_600_000);
  purger.unref();
  return {
    startup,
    async stop() {
      clearInterval(reconciler);
      clearInterval(verifier);
      clearInterval(purger);
      clearInterval(observer);
      await Promise.all([...inFlight]);
    },
  };
}
