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
import { closestCommand } from '../near-miss.js';

/** The program words of a command: its first word, and under `sh -c` the first word of the script. */
function commandWords(words: readonly string[]): string[] {
  const first = words[0];
  if (!first) return [];
  const base = first.split('/').at(-1) ?? first;
  if (['sh', 'bash', 'ash', 'dash'].includes(base)) {
    const script = words.slice(1).find((word) => !word.startsWith('-'));
    const program = script?.trim().split(/\s+/)[0];
    return program ? [program, program.split('/').at(-1) ?? program] : [];
  }
  return [first, base];
}

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

    const history = revisionHistory(facts.workload, facts.primaryPod, facts.ctx.objects, facts.pods);
    const commandChanged = history.changes.some((change) => /command|args|image/.test(change));
    const rollbackTo = commandChanged && history.goodBecause ? history.previous : undefined;
    const factors: string[] = [];
    if (commandChanged)
      factors.push(`revision ${history.current?.revision} changed: ${history.changes.join('; ')}`);
    if (commandChanged && history.previous)
      factors.push(
        history.goodBecause
          ? `revision ${history.previous.revision} is believed good: ${history.goodBecause}`
          : `nothing in the context shows that revision ${history.previous.revision} ran well, so no rollback is proposed`,
      );
    const executable =
      /exec: "([^"]+)"/.exec(detail ?? '')?.[1] ??
      /: (?:\d+: )?(\S+): (?:not found|No such file)/.exec(detail ?? '')?.[1];
    const architecture = /exec format error/.test(detail ?? '');
    // "Did you mean": the command a healthy revision (or another revision) of the workload runs.
    const known = [...history.previousCommands.entries()]
      .filter(([name]) => container === undefined || name === container)
      .flatMap(([, words]) => commandWords(words));
    const suggested = executable ? closestCommand(executable, known) : undefined;
    if (suggested)
      factors.push(
        `did you mean "${suggested}"? revision ${history.previous?.revision} runs "${suggested}"; "${executable}" differs by a typo`,
      );
    const what = architecture
      ? 'its image is built for another CPU architecture (exec format error)'
      : executable
        ? `its command "${executable}" does not exist in the image${suggested ? ` (did you mean "${suggested}", which revision ${history.previous?.revision} runs?)` : ''}`
        : 'its command or entrypoint cannot be executed';
    return finding('invalid-command', facts, {
      confidence,
      rootCause: `${containerPhrase(facts, container)} cannot start: ${what}.`,
      factors,
      evidence,
      details: {
        container,
        crashLine: detail,
        rollbackToRevision: rollbackTo?.revision,
        currentRevision: history.current?.revision,
        revisionChange: history.changes.join('; ') || undefined,
        goodRevisionEvidence: rollbackTo ? history.goodBecause : undefined,
        suggestedCommand: suggested,
        executable,
      },
    });
  },
};
