import type { Evidence } from '../../domain/index.js';
import { CONFIDENCE } from '../finding.js';
import { containerPath, eventEvidence, logEvidence, statusEvidence } from '../facts.js';
import { eventContainer, FILESYSTEM_PERMISSION, waitingStates, terminations } from '../signals.js';
import { containerPhrase, finding, type Rule } from './rule.js';

const RUN_AS_ROOT = /container has runAsNonRoot and image will run as root/;
const NON_NUMERIC = /image has non-numeric user \(([^)]+)\), cannot verify user is non-root/;
const POD_SECURITY = /violates PodSecurity "([^"]+)": (.+)$/;

export const securityContextRule: Rule = {
  category: 'security-context',
  evaluate(facts) {
    const evidence: Evidence[] = [];
    let container: string | undefined;
    let problem: 'run-as-root' | 'non-numeric-user' | 'pod-security' | 'filesystem' | undefined;
    let confidence = 0;
    let checks: string[] = [];
    let level: string | undefined;
    let writablePath: string | undefined;
    let readOnly = false;
    for (const waiting of waitingStates(facts)) {
      const message = waiting.message ?? '';
      if (!RUN_AS_ROOT.test(message) && !NON_NUMERIC.test(message)) continue;
      container ??= waiting.container.name;
      problem ??= RUN_AS_ROOT.test(message) ? 'run-as-root' : 'non-numeric-user';
      evidence.push(
        statusEvidence(
          waiting.pod,
          containerPath(waiting.container, 'state.waiting'),
          `${waiting.reason}: ${message}`,
        ),
      );
      confidence = CONFIDENCE.certain;
    }
    for (const event of facts.events) {
      if (RUN_AS_ROOT.test(event.message) || NON_NUMERIC.test(event.message)) {
        container ??= eventContainer(event) ?? /container: ([\w-]+)\)/.exec(event.message)?.[1];
        problem ??= RUN_AS_ROOT.test(event.message) ? 'run-as-root' : 'non-numeric-user';
        evidence.push(eventEvidence(event));
        confidence = Math.max(confidence, CONFIDENCE.strong);
        continue;
      }
      const podSecurity = POD_SECURITY.exec(event.message);
      if (podSecurity) {
        problem ??= 'pod-security';
        level = podSecurity[1];
        checks = podSecurity[2]!.split(/\), /).map((check) => check.trim());
        evidence.push(eventEvidence(event));
        confidence = Math.max(confidence, CONFIDENCE.certain);
      }
    }
    const crashing = terminations(facts).some((t) => (t.exitCode ?? 0) !== 0 && t.reason !== 'OOMKilled');
    if (confidence === 0) {
      const line = facts.findLog(FILESYSTEM_PERMISSION);
      if (!line) return undefined;
      problem = 'filesystem';
      writablePath =
        /['"`]?(\/[\w.@+-]+(?:\/[\w.@+-]+)*)['"`]?/.exec(
          line.line.replace(
            /^.*?(?:Read-only file system|Permission denied|EACCES|EROFS|permission denied)/i,
            '',
          ) || line.line,
        )?.[1] ?? /['"`]?(\/[\w.@+-]+(?:\/[\w.@+-]+)*)['"`]?/.exec(line.line)?.[1];
      readOnly = /Read-only file system|EROFS|Errno 30/i.test(line.line);
      evidence.push(logEvidence(line));
      confidence =
        crashing || waitingStates(facts).some((w) => w.reason === 'CrashLoopBackOff')
          ? CONFIDENCE.good - 0.05
          : CONFIDENCE.moderate - 0.1;
    }
    const factors: string[] = [];
    const where = containerPhrase(facts, container);
    let cause: string;
    switch (problem) {
      case 'run-as-root':
        cause = `${where} sets runAsNonRoot, but its image runs as root (UID 0), so the kubelet refuses to start it`;
        break;
      case 'non-numeric-user':
        cause = `${where} sets runAsNonRoot, but its image declares a non-numeric user, so the kubelet cannot verify it is not root`;
        break;
      case 'pod-security':
        cause = `the namespace enforces PodSecurity "${level ?? ''}" and the pods of ${facts.describeSubject()} violate it (${checks.join('; ')}), so they are never created`;
        break;
      default:
        cause = readOnly
          ? `${where} cannot write to ${writablePath ?? 'its filesystem'}: the root filesystem is read-only (readOnlyRootFilesystem) and nothing writable is mounted there`
          : `${where} is denied write access to ${writablePath ?? 'a path it needs'}: it runs as a user that does not own it`;
    }
    return finding('security-context', facts, {
      confidence,
      rootCause: `${cause}.`,
      factors,
      evidence,
      details: {
        container:
          container ??
          facts.primaryPod?.containers.find(
            (c) => (c.status?.restartCount ?? 0) > 0 || c.status?.state.waiting,
          )?.name ??
          facts.primaryPod?.containers[0]?.name,
        securityProblem: problem,
        podSecurityChecks: checks,
        writablePath,
        readOnlyFilesystem: readOnly,
      },
    });
  },
};
