import type { Evidence } from '../../domain/index.js';
import { CONFIDENCE } from '../finding.js';
import {
  containerPath,
  eventEvidence,
  type Facts,
  isToolOutput,
  logEvidence,
  logSourcePhrase,
  type RetainedLine,
  statusEvidence,
} from '../facts.js';
import { configFileError } from '../config-files.js';
import { revisionHistory } from '../revisions.js';
import {
  API_FORBIDDEN,
  crashLine,
  DEPENDENCY_ERROR,
  FILESYSTEM_PERMISSION,
  HEAP_EXHAUSTED,
  livenessKills,
  missingEnvVar,
  EXEC_FAILURE_LOG,
  SHELL_NOT_FOUND,
  terminationEvidence,
  terminations,
  waitingStates,
} from '../signals.js';
import { containerPhrase, finding, type Rule } from './rule.js';
import { issueHints } from '../issue-hints.js';

const START_FAILURE_REASONS = new Set(['StartError', 'ContainerCannotRun', 'OOMKilled']);

/** Evidence that the application process itself exits and is restarted. */
export function crashSignals(facts: Facts): {
  evidence: Evidence[];
  container?: string;
  exitCode?: number;
  reason?: string;
  restarts: number;
  backOff: boolean;
  currentlyTerminated: boolean;
} {
  const evidence: Evidence[] = [];
  let container: string | undefined;
  let exitCode: number | undefined;
  let reason: string | undefined;
  let restarts = 0;
  let backOff = false;
  let currentlyTerminated = false;
  for (const waiting of waitingStates(facts)) {
    if (waiting.reason !== 'CrashLoopBackOff') continue;
    backOff = true;
    container ??= waiting.container.name;
    evidence.push(
      statusEvidence(
        waiting.pod,
        containerPath(waiting.container, 'state.waiting.reason'),
        'CrashLoopBackOff',
      ),
    );
  }
  for (const termination of terminations(facts)) {
    if (termination.reason && START_FAILURE_REASONS.has(termination.reason)) continue;
    // Exit 255 with reason Unknown: the node or runtime restarted, not the application.
    if (termination.reason === 'Unknown') continue;
    const failed =
      (termination.exitCode ?? 0) !== 0 ||
      termination.reason === 'Completed' ||
      termination.reason === 'Error';
    if (!failed) continue;
    if (termination.exitCode === 126 || termination.exitCode === 127 || termination.exitCode === 128)
      continue;
    if (container && termination.container.name !== container) continue;
    container ??= termination.container.name;
    if (termination.which === 'state') currentlyTerminated = true;
    exitCode ??= termination.exitCode;
    reason ??= termination.reason;
    restarts = Math.max(restarts, termination.container.status?.restartCount ?? 0);
    evidence.push(...terminationEvidence(termination));
  }
  const events = facts.eventsMatching(/Back-off restarting failed container/, ['BackOff']);
  if (events[0]) {
    backOff = true;
    evidence.push(eventEvidence(events[0]));
  }
  return { evidence, container, exitCode, reason, restarts, backOff, currentlyTerminated };
}

/**
 * No pod status at all (none was given, or kubemend could not read it): a start-up line that names
 * a missing variable, in an incident the reporter calls a crash, still explains it — with less
 * confidence, and saying that nothing confirmed the exits.
 */
function reportedCrash(facts: Facts) {
  const env = missingEnvVar(facts);
  if (!env || !issueHints(facts.ctx.issue).includes('crash-loop')) return undefined;
  return finding('crash-loop', facts, {
    confidence: CONFIDENCE.moderate,
    rootCause: `${containerPhrase(facts, env.line.container)} is reported to crash, and ${logSourcePhrase(env.line)} say why: the required environment variable ${env.name} is not set ("${env.line.line.trim()}"). No pod status was available to confirm the exits.`,
    factors: [
      'no pod status in the context: the exits are what the report says, not what the cluster showed',
    ],
    evidence: [logEvidence(env.line)],
    details: { container: env.line.container, missingEnv: env.name, crashLine: env.line.line },
  });
}

export const crashLoopRule: Rule = {
  category: 'crash-loop',
  evaluate(facts) {
    const signals = crashSignals(facts);
    const hasStatus = signals.exitCode !== undefined || signals.reason !== undefined;
    if (!signals.backOff && !hasStatus) return facts.pods.length === 0 ? reportedCrash(facts) : undefined;
    // A container that runs and is ready now, with few restarts and no back-off, is not crash-looping.
    const allReady =
      facts.pods.length > 0 &&
      facts.pods.every((pod) =>
        pod.containers.every((c) => c.status?.ready === true && c.status.state.running !== undefined),
      );
    const active = signals.backOff || signals.currentlyTerminated || (signals.restarts >= 3 && !allReady);
    if (!active) return undefined;
    if (terminations(facts).some((t) => t.reason === 'OOMKilled')) return undefined;
    if (waitingStates(facts).some((w) => w.reason === 'CreateContainerConfigError')) return undefined;

    const evidence = [...signals.evidence];
    const factors: string[] = [];
    let confidence = hasStatus ? CONFIDENCE.good + 0.05 : CONFIDENCE.good - 0.05;

    const kills = livenessKills(facts);
    if (kills.length > 0) {
      // The kubelet is killing it: the probe rule explains this better.
      confidence = CONFIDENCE.weak;
      factors.push('the kubelet is killing the container after failed probes');
    }

    const containerView = facts.containers().find((c) => c.container.name === signals.container)?.container;
    const config = configFileError(facts, containerView);
    const line = config?.line ?? crashLine(facts, signals.container);
    const env = config ? undefined : missingEnvVar(facts, signals.container);
    const heap = config ? undefined : facts.findOwnLog(HEAP_EXHAUSTED, signals.container);
    if (env) evidence.unshift(logEvidence(env.line));
    else if (heap) evidence.unshift(logEvidence(heap));
    else if (line) evidence.unshift(logEvidence(line));
    if (line || env) confidence += 0.05;
    const quoted = env?.line ?? heap ?? line;
    if (
      quoted?.source === 'caller' &&
      facts.logLines.some((l) => l.source === 'caller' && isToolOutput(l.line))
    )
      factors.push(
        "the logs given with the request include a CI job's or a terminal's output (kubectl commands, the job's verdict); those lines are not the container's",
      );
    else if (quoted && quoted.source !== 'caller' && facts.logLines.some((l) => l.source === 'caller'))
      factors.push(
        `the container's own output was read from the cluster; the logs given with the request are kept as the caller's evidence`,
      );

    // Other categories explain an application exit more precisely; defer to them.
    if (!env && !config && facts.findLog(DEPENDENCY_ERROR) && !heap) {
      confidence -= 0.2;
      factors.push('the logs show a dependency that cannot be reached');
    }
    if (!env && !config && facts.findLog(FILESYSTEM_PERMISSION)) {
      confidence -= 0.2;
      factors.push('the logs show a filesystem permission error');
    }
    if (facts.findLog(SHELL_NOT_FOUND) || facts.findLog(EXEC_FAILURE_LOG)) {
      confidence -= 0.25;
      factors.push('the logs show the command itself cannot be executed');
    }
    if (facts.findLog(API_FORBIDDEN)) {
      confidence -= 0.25;
      factors.push('the logs show a Kubernetes API permission error');
    }

    const history = revisionHistory(facts.workload, facts.primaryPod, facts.ctx.objects, facts.pods);
    const rollbackTo = history.goodBecause && history.changes.length > 0 ? history.previous : undefined;
    if (history.previous && history.current && history.changes.length > 0) {
      factors.push(
        `the failing pods run revision ${history.current.revision}; revision ${history.previous.revision} differs: ${history.changes.join('; ')}`,
      );
      factors.push(
        history.goodBecause
          ? `revision ${history.previous.revision} is believed good: ${history.goodBecause}`
          : `nothing in the context shows that revision ${history.previous.revision} ran well (no ready pods), so no rollback is proposed`,
      );
    }

    const where = containerPhrase(facts, signals.container);
    const said = (l: RetainedLine) => `${logSourcePhrase(l)}: "${l.line.trim()}"`;
    let cause: string;
    if (config) {
      const file = `${config.path}${config.fileLine ? ` (line ${config.fileLine}${config.named ? `, ${config.named}` : ''})` : config.named ? ` (${config.named})` : ''}`;
      cause = config.source
        ? `${where} exits at start-up because its configuration file ${file} does not parse; the file is key ${config.source.key} of ConfigMap ${config.source.configMap} (${said(config.line)})`
        : `${where} exits at start-up because its configuration file ${file} does not parse (${said(config.line)})`;
    } else if (env) {
      cause = `${where} exits at start-up because the required environment variable ${env.name} is not set (${said(env.line)})`;
    } else if (heap) {
      cause = `${where} exits because its runtime ran out of heap (${said(heap)}): the runtime's own heap limit, not the container memory limit (the container was not OOMKilled)`;
    } else if (signals.reason === 'Completed' || signals.exitCode === 0) {
      cause = `${where} runs a process that exits (exit code 0) under restartPolicy Always, so the kubelet keeps restarting it`;
    } else if (line) {
      cause =
        line.source === 'caller'
          ? `${where} exits with code ${signals.exitCode ?? 'non-zero'}; the logs given with the request (not read from the container) show "${line.line.trim()}"`
          : `${where} exits with code ${signals.exitCode ?? 'non-zero'}; its last error before exit, in ${logSourcePhrase(line)}, is "${line.line.trim()}"`;
    } else {
      cause = `${where} keeps exiting (exit code ${signals.exitCode ?? 'unknown'}) and the kubelet restarts it with back-off; the logs given do not say why`;
    }
    if (history.previous && history.changes.length > 0)
      cause += `, since revision ${history.current?.revision} changed ${history.changes[0]}`;
    if (rollbackTo) cause += `; revision ${rollbackTo.revision} ran well (${history.goodBecause})`;
    cause += '.';

    return finding('crash-loop', facts, {
      confidence,
      rootCause: cause,
      factors,
      evidence,
      details: {
        container: signals.container,
        exitCode: signals.exitCode,
        crashLine: (env?.line ?? line)?.line,
        missingEnv: env?.name,
        heapExhausted: heap !== undefined && !env,
        rollbackToRevision: rollbackTo?.revision,
        currentRevision: history.current?.revision,
        revisionChange: history.changes.join('; ') || undefined,
        goodRevisionEvidence: rollbackTo ? history.goodBecause : undefined,
        ...(config?.source
          ? {
              configKind: 'ConfigMap' as const,
              configName: config.source.configMap,
              configKey: config.source.key,
            }
          : {}),
        ...(config ? { configFile: { path: config.path, line: config.fileLine, named: config.named } } : {}),
      },
    });
  },
};
