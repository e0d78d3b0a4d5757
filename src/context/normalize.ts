/**
 * The context from the input: what the caller sent, merged with what live gathering read (the
 * cluster's copy first), normalised by `events.ts`, `pods.ts`, `objects.ts` and `metrics.ts`.
 */
import { asArray, asObject, type JsonObject, type RemediateInput } from '../domain/index.js';
import { EMPTY_LOG_SUMMARY, type LogSummary, summarizeLogs } from './log-summary.js';
import { liveSummary, logStreams } from './log-streams.js';
import type { LiveContext } from './live.js';
import type {
  GatheringReport,
  IncidentContext,
  KubernetesObject,
  NormalizedEvent,
  PodView,
} from './model.js';
import { dedupeEvents, normalizeEvent } from './events.js';
import { normalizeMetrics } from './metrics.js';
import { dedupeObjects, normalizeObject } from './objects.js';
import { dedupePods, normalizePod } from './pods.js';

export interface ContextExtras {
  /** A log summary computed while streaming the input (replaces `context.logs`). */
  readonly logs?: LogSummary;
  readonly previousLogs?: LogSummary;
  readonly gathering?: GatheringReport;
  /** What was read from the live cluster; merged with what the caller sent. */
  readonly live?: LiveContext;
}

export const OFFLINE_GATHERING: GatheringReport = {
  live: false,
  partial: false,
  notes: [],
  apiCalls: 0,
  durationMs: 0,
};

/** Build the context from what the caller sent. */
export function contextFromInput(input: RemediateInput, extras: ContextExtras = {}): IncidentContext {
  const context = input.context ?? {};
  const rawEvents: NormalizedEvent[] = [];
  if (context.event) rawEvents.push(normalizeEvent(context.event, 'input'));
  for (const event of context.relatedEvents ?? []) rawEvents.push(normalizeEvent(event, 'input'));

  const objects: KubernetesObject[] = [];
  const pods: PodView[] = [];
  const live = extras.live;
  // Live state first: when the caller's copy and the cluster disagree, the cluster is current.
  for (const pod of live?.pods ?? []) pods.push(normalizePod(pod as JsonObject, 'cluster'));
  for (const object of live?.objects ?? []) objects.push(normalizeObject(object as JsonObject, 'cluster'));
  for (const event of live?.events ?? []) rawEvents.push(normalizeEvent(event as JsonObject, 'cluster'));
  if (context.podSpec) pods.push(normalizePod(context.podSpec as JsonObject, 'input'));
  for (const resource of context.resources ?? []) {
    const raw = resource as JsonObject;
    if (raw.kind === 'Event') rawEvents.push(normalizeEvent(raw, 'input'));
    else if (raw.kind === 'Pod') pods.push(normalizePod(raw, 'input'));
    else if (raw.kind === 'List' || raw.kind?.toString().endsWith('List')) {
      for (const item of asArray(raw.items)) {
        const itemObject = asObject(item);
        if (!itemObject) continue;
        if (itemObject.kind === 'Pod') pods.push(normalizePod(itemObject, 'input'));
        else if (itemObject.kind === 'Event') rawEvents.push(normalizeEvent(itemObject, 'input'));
        else objects.push(normalizeObject(itemObject, 'input'));
      }
    } else objects.push(normalizeObject(raw, 'input'));
  }

  const callerLogs = extras.logs ?? (context.logs ? summarizeLogs(context.logs) : undefined);
  const liveLogs = liveSummary(live?.logs ?? [], false);
  const normalizedPods = dedupePods(pods);
  return {
    issue: input.issue,
    target: input.target,
    events: dedupeEvents(rawEvents),
    pods: normalizedPods,
    objects: dedupeObjects(objects),
    metrics: normalizeMetrics({ ...live?.metrics, ...context.metrics }),
    logs: callerLogs ?? liveLogs ?? EMPTY_LOG_SUMMARY,
    previousLogs: extras.previousLogs ?? liveSummary(live?.logs ?? [], true),
    logsOrigin: callerLogs ? 'input' : liveLogs ? 'cluster' : undefined,
    logStreams: logStreams(callerLogs, live?.logs ?? [], normalizedPods),
    gathering: extras.gathering ?? (live ? { live: true, ...live.report } : OFFLINE_GATHERING),
  };
}
