import type { Evidence } from '../../domain/index.js';
import { CONFIDENCE } from '../finding.js';
import { containerPath, eventEvidence, logEvidence, statusEvidence } from '../facts.js';
import { revisionHistory } from '../revisions.js';
import {
  EXEC_FAILURE_LOG,
  eventContainer,
  SHELL_NOT_FOUND,
  START_FAILURE,
  terminationEvidence,
  terminations,
  waitingStates,
} from '../signals.js';
import { containerPhrase, finding, type Rule } from './rule.js';

export const invalidCommandRule: Rule = {
  category: 'invalid-command',
  evaluate(facts) {
    const evidence: Evidence[] = [];
    let container: string | undefined;
    let confidence = 0;
    let detail: string | undefined;

    for (const waiting of waitingStates(facts)) {
      if (!['RunContainerError', 'CreateContainerError', 'StartError'].includes(waiting.reason)) continue;
      if (waiting.message && !START_FAILURE.test(waiting.message)) continue;
      container ??= waiting.container.name;
      detail ??= waiting.message;
      evidence.push(
        statusEvidence(
          waiting.pod,
          containerPath(waiting.container, 'state.waiting'),
          `${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`,
        ),
      );
      confidence = Math.max(confidence, waiting.message ? CONFIDENCE.certain : CONFIDENCE.good);
    }
    for (const termination of terminations(facts)) {
      const startError = termination.reason === 'StartError' || termination.reason === 'ContainerCannotRun';
      const notFound = termination.exitCode === 127 || termination.exitCode === 126;
      if (!startError && !notFound) continue;
      if (
        termination.message &&
        !startError &&
        !START_FAILURE.test(termination.message) &&
        !SHELL_NOT_FOUND.test(termination.message)
      )
        continue;
      container ??= termination.container.name;
      detail ??= termination.message;
      evidence.push(...terminationEvidence(termination));
      confidence = Math.max(confidence, startError ? CONFIDENCE.strong : CONFIDENCE.good - 0.05);
    }
    for (const event of facts.events) {
      if (event.reason !== 'Failed' || !START_FAILURE.test(event.message)) continue;
      if (/pull|image/i.test(event.message) && !/exec/.test(event.message)) continue;
      container ??= eventContainer(event);
      detail ??= event.message;
      evidence.push(eventEvidence(event));
      confidence = Math.max(confidence, CONFIDENCE.strong);
    }
    const shell = facts.findLog(SHELL_NOT_FOUND) ?? facts.findLog(EXEC_FAILURE_LOG);
    if (shell) {
      evidence.push(logEvidence(shell));
      // The runtime's own exec failure echoed as the container's output, while it crash-loops.
      const crashing =
        waitingStates(facts).some((w) => w.reason === 'CrashLoopBackOff') ||
        terminations(facts).some((t) => (t.exitCode ?? 0) !== 0);
      confidence = Math.max(confidence, confidence > 0 || crashing ? CONFIDENCE.strong : CONFIDENCE.moderate);
      detail ??= shell.line;
    }
    if (confidence === 0) return undefined;

    const history = revisionHistory(facts.workload, facts.primaryPod, facts.ctx.objects);
    const commandChanged = history.changes.some((change) => /command|args|image/.test(change));
    const factors: string[] = [];
    if (commandChanged)
      factors.push(`revision ${history.current?.revision} changed: ${history.changes.join('; ')}`);
    const executable =
      /exec: "([^"]+)"/.exec(detail ?? '')?.[1] ??
      /: (\S+): (?:not found|No such file)/.exec(detail ?? '')?.[1];
    const architecture = /exec format error/.test(detail ?? '');
    const what = architecture
      ? 'its image is built for another CPU architecture (exec format error)'
      : executable
        ? `its command "${executable}" does not exist in the image`
        : 'its command or entrypoint cannot be executed';
    return finding('invalid-command', facts, {
      confidence,
      rootCause: `${containerPhrase(facts, container)} cannot start: ${what}.`,
      factors,
      evidence,
      details: {
        container,
        crashLine: detail,
        rollbackToRevision: commandChanged ? history.previous?.revision : undefined,
        currentRevision: history.current?.revision,
        revisionChange: history.changes.join('; ') || undefined,
      },
    });
  },
};
