/**
 * The context's logs, each kept with its source: the caller's `context.logs` (which may be any
 * text — a container's output pasted by a person, or a CI job's output), each container's current
 * and previous output read from the cluster, and the termination message a container left (its
 * own last words, or the tail of its log under `FallbackToLogsOnError`).
 */
import type { LiveLog } from './live-pods.js';
import { type LogSummary, summarizeLogs } from './log-summary.js';
import type { LogStream, PodView } from './model.js';

/** Terminations whose message is the runtime's, not the container's output. */
const RUNTIME_MESSAGES = new Set(['StartError', 'ContainerCannotRun']);

function terminationStreams(pods: readonly PodView[], live: readonly LiveLog[]): LogStream[] {
  const out: LogStream[] = [];
  for (const pod of pods) {
    for (const container of [...pod.containers, ...pod.initContainers]) {
      const status = container.status;
      if (!status) continue;
      for (const which of ['lastState', 'state'] as const) {
        const terminated = status[which].terminated;
        const message = terminated?.message?.trim();
        if (!message || RUNTIME_MESSAGES.has(terminated?.reason ?? '')) continue;
        const previous = which === 'lastState';
        const read = live.some(
          (log) => log.pod === pod.name && log.container === container.name && log.previous === previous,
        );
        if (read) continue;
        out.push({
          source: previous ? 'container-previous' : 'container-current',
          pod: pod.name,
          namespace: pod.namespace,
          container: container.name,
          origin: pod.origin,
          summary: summarizeLogs(message.split('\n')),
        });
      }
    }
  }
  return out;
}

/** Every log of the incident with its source: the caller's first, then each container's. */
export function logStreams(
  caller: LogSummary | undefined,
  live: readonly LiveLog[],
  pods: readonly PodView[],
): LogStream[] {
  const streams: LogStream[] = [];
  if (caller && caller.totalLines > 0) streams.push({ source: 'caller', origin: 'input', summary: caller });
  for (const log of live) {
    streams.push({
      source: log.previous ? 'container-previous' : 'container-current',
      pod: log.pod,
      namespace: log.namespace,
      container: log.container,
      origin: 'cluster',
      summary: summarizeLogs(log.lines),
    });
  }
  streams.push(...terminationStreams(pods, live));
  return streams;
}

/** All lines of the live logs of one kind (current or previous), as one summary. */
export function liveSummary(live: readonly LiveLog[], previous: boolean): LogSummary | undefined {
  const lines = live.filter((log) => log.previous === previous).flatMap((log) => log.lines);
  return lines.length > 0 ? summarizeLogs(lines) : undefined;
}
