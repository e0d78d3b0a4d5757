import { CONFIDENCE } from '../finding.js';
import { type Facts, logEvidence } from '../facts.js';
import { DEPENDENCY_ERROR, probeFailures, terminations, waitingStates } from '../signals.js';
import { containerPhrase, finding, type Rule } from './rule.js';

const TARGET = [
  /(?:dial tcp|connect to|connecting to|connection to|ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|Connection refused:?|refused connection to)\s*\(?\s*(?:server at\s+)?"?([a-zA-Z0-9][\w.-]*:\d{2,5})/i,
  /lookup ([\w.-]+)(?: on [\d.:]+)?: no such host/,
  /getaddrinfo (?:ENOTFOUND|EAI_AGAIN) ([\w.-]+)/,
  /UnknownHostException: ([\w.-]+)/,
  /could not translate host name "([^"]+)"/,
  /(?:host|server)[ =:]+"?([\w.-]+:\d{2,5})/i,
];

/** `svc.wrong-ns.svc.cluster.local` does not resolve, but a Service `svc` exists in another namespace. */
function misdirectedService(dependency: string | undefined, facts: Facts) {
  if (!dependency) return undefined;
  const host = dependency.replace(/:\d+$/, '');
  const match = /^([a-z0-9-]+)\.([a-z0-9-]+)(\.svc(?:\.cluster\.local)?)?$/.exec(host);
  if (!match?.[1] || !match[2]) return undefined;
  const [, service, wrongNamespace, suffix] = match;
  const found = facts
    .objectsOfKind('Service')
    .find((object) => object.name === service && object.namespace && object.namespace !== wrongNamespace);
  const namespaces = facts.ctx.objects.filter((o) => o.kind === 'Namespace').map((o) => o.name);
  if (!found?.namespace || namespaces.includes(wrongNamespace)) return undefined;
  return {
    service,
    namespace: found.namespace,
    wrongNamespace,
    host,
    correctedHost: `${service}.${found.namespace}${suffix ?? ''}`,
  };
}

export const dependencyFailureRule: Rule = {
  category: 'dependency-failure',
  evaluate(facts) {
    const lines = facts.findLogs(DEPENDENCY_ERROR);
    if (lines.length === 0) return undefined;
    const occurrences = facts.countLogs(DEPENDENCY_ERROR);
    const lastImportant = facts.findLog(/error|fatal|panic|exception|fail|refused|timeout/i);
    const dominant = lastImportant !== undefined && DEPENDENCY_ERROR.test(lastImportant.line);
    const main = dominant ? lastImportant! : lines.at(-1)!;
    let dependency: string | undefined;
    for (const pattern of TARGET) {
      dependency = pattern.exec(main.line)?.[1];
      if (dependency) break;
    }
    const crashing =
      waitingStates(facts).some((w) => w.reason === 'CrashLoopBackOff') ||
      terminations(facts).some((t) => (t.exitCode ?? 0) !== 0 && t.reason !== 'OOMKilled');
    const unready =
      probeFailures(facts).length > 0 ||
      facts.primaryPod?.conditions.some((c) => c.type === 'Ready' && c.status === 'False');
    let confidence: number = dominant || occurrences >= 3 ? CONFIDENCE.good : CONFIDENCE.moderate - 0.05;
    if (crashing || unready) confidence += 0.03;
    const factors = [`${occurrences} log line(s) report the dependency failure`];
    // Normal progress after the last failure: the dependency came back.
    const lastFailure = lines.at(-1)!;
    const later = facts.logLines
      .slice(facts.logLines.indexOf(lastFailure) + 1)
      .filter(
        (line) =>
          (line.stream === lastFailure.stream ||
            (lastFailure.source === 'container-previous' &&
              line.source === 'container-current' &&
              line.container === lastFailure.container)) &&
          !/error|fail|fatal|exception|refused|timeout|warn|"status(?:Code)?":\s*5\d\d|\s5\d\d\s/i.test(
            line.line,
          ),
      );
    // A Job that completed got past the failure: its failed attempts were retried successfully.
    const completed =
      facts.workload?.kind === 'Job' ? facts.findObject('Job', facts.workload.name) : undefined;
    const jobDone = completed?.conditions.some((c) => c.type === 'Complete' && c.status === 'True') === true;
    const recovered = later.length >= 2 || jobDone;
    if (later.length >= 2) {
      confidence -= 0.25;
      factors.push('later log lines show normal progress: the dependency recovered');
    } else if (jobDone) {
      confidence -= 0.25;
      factors.push(`Job ${completed?.name ?? ''} completed: the failed attempts were retried successfully`);
    }
    if (!crashing && !unready && facts.pods.length > 0) {
      // Running and Ready now. Evidence of an ongoing failure in the logs outranks "Ready now";
      // without it (or once the logs show recovery), Ready now is what counts.
      if (!recovered && dominant && occurrences >= 3)
        factors.push(
          'the pods are Running and Ready, but the logs show the dependency failing up to their last lines: the readiness check does not cover it',
        );
      else confidence -= 0.1;
    }
    const wrongNamespace = misdirectedService(dependency, facts);
    if (wrongNamespace)
      factors.push(
        `Service ${wrongNamespace.service} exists in namespace ${wrongNamespace.namespace}, not ${wrongNamespace.wrongNamespace}: the configured host names the wrong namespace`,
      );
    if (/x509|certificate|SSLHandshake/i.test(main.line))
      factors.push('a TLS certificate problem, not a network outage');
    if (/no such host|ENOTFOUND|UnknownHost|translate host name|Name or service not known/i.test(main.line))
      factors.push('a DNS name that does not resolve: a wrong host name or a DNS outage');
    const container = facts.containers().find((c) => !c.container.init)?.container.name;
    return finding('dependency-failure', facts, {
      confidence,
      rootCause: `${containerPhrase(facts, container)} cannot reach ${dependency ? `its dependency ${dependency}` : 'a dependency'} ("${main.line.trim()}")${crashing ? ' and exits' : unready ? ' and reports itself unready' : ''}; the dependency, not this workload, is failing.`,
      factors,
      evidence: [
        logEvidence(main),
        ...lines
          .filter((l) => l !== main)
          .slice(-2)
          .map((l) => logEvidence(l)),
      ],
      details: {
        container,
        dependency,
        crashLine: main.line,
        hostFix: wrongNamespace ? { from: wrongNamespace.host, to: wrongNamespace.correctedHost } : undefined,
      },
    });
  },
};
