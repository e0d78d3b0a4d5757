/** Liveness and readiness (and startup) probe failures, with the concrete probe fix when evident. */
import { type Evidence, asString, at } from '../../domain/index.js';
import type { ContainerView, ProbeView } from '../../context/model.js';
import { CONFIDENCE, type FindingDetails } from '../finding.js';
import {
  containerPath,
  eventEvidence,
  type Facts,
  logEvidence,
  percent,
  type RetainedLine,
  statusEvidence,
} from '../facts.js';
import {
  DEPENDENCY_ERROR,
  eventContainer,
  livenessKills,
  type ProbeFailure,
  probeFailures,
  terminations,
} from '../signals.js';
import { containerPhrase, finding, type Rule } from './rule.js';
import { throttlingRatio } from './cpu-throttling.js';

const LISTENING =
  /(?:listening|listen|serving|started|running|bound|server started)\b[^\n]{0,40}?(?:on|at)?\s*(?:port\s*)?(?:https?:\/\/)?(?:[\w.[\]-]*:)?(\d{2,5})\b/i;
const HEALTH_PATH =
  /(\/(?:health|healthz|healthcheck|ready|readyz|readiness|live|livez|liveness|status|ping|actuator\/health)[\w/-]*)/i;
const OK_STATUS = /"statusCode":\s*2\d\d|"status":\s*2\d\d|" 2\d\d |\bstatus=2\d\d|\b200 OK\b/;

const HEALTH_PATHS = new RegExp(HEALTH_PATH.source, 'gi');
const NOT_FOUND_STATUS = /"statusCode":\s*404|" 404 |\bstatus=404|not found/i;

/** Health-like paths the application serves, from its logs: answered 2xx, or announced at start-up. */
function servedPaths(facts: Facts): Array<{ path: string; line: RetainedLine }> {
  const out: Array<{ path: string; line: RetainedLine }> = [];
  const missing = new Set<string>();
  for (const line of facts.findLogs(HEALTH_PATH)) {
    const paths = [...line.line.matchAll(HEALTH_PATHS)].map((m) => m[1]!).filter(Boolean);
    if (NOT_FOUND_STATUS.test(line.line)) {
      for (const path of paths) missing.add(path);
      continue;
    }
    const served =
      OK_STATUS.test(line.line) || /register|serving|expos|endpoints?:|routes?:|listening/i.test(line.line);
    if (!served) continue;
    for (const path of paths) if (!out.some((entry) => entry.path === path)) out.push({ path, line });
  }
  return out.filter((entry) => !missing.has(entry.path));
}

function containerFor(facts: Facts, failure: ProbeFailure): ContainerView | undefined {
  const name = eventContainer(failure.event);
  const all = facts.containers().map((entry) => entry.container);
  return (
    (name ? all.find((c) => c.name === name) : undefined) ??
    all.find((c) => !c.init && probeOf(c, failure.probe)) ??
    all[0]
  );
}

export function probeOf(container: ContainerView, probe: ProbeFailure['probe']): ProbeView | undefined {
  return probe === 'liveness'
    ? container.liveness
    : probe === 'readiness'
      ? container.readiness
      : container.startup;
}

function numericPort(container: ContainerView, port: number | string | undefined): number | undefined {
  if (typeof port === 'number') return port;
  if (typeof port === 'string') return container.ports.find((p) => p.name === port)?.containerPort;
  return undefined;
}

/** The concrete fix for a probe that checks the wrong port or path, when the evidence names it. */
function suggestFix(
  facts: Facts,
  container: ContainerView | undefined,
  failure: ProbeFailure,
  evidence: Evidence[],
): Partial<FindingDetails> {
  if (!container) return {};
  const probe = probeOf(container, failure.probe);
  const probePort = numericPort(container, probe?.port) ?? failure.port;
  const out: { suggestedPort?: number; suggestedPath?: string; suggestedScheme?: 'HTTPS'; authEnv?: string } =
    {};
  if (failure.kind === 'connection-refused') {
    const declared = container.ports.map((p) => p.containerPort).filter((port) => port !== probePort);
    const listening = facts.findLog(LISTENING);
    const logged = listening ? Number(LISTENING.exec(listening.line)?.[1]) : undefined;
    if (logged && logged !== probePort && logged >= 80) {
      out.suggestedPort = logged;
      evidence.push(logEvidence(listening!));
    } else if (declared.length === 1 && !container.ports.some((p) => p.containerPort === probePort)) {
      out.suggestedPort = declared[0];
      evidence.push({
        quote: `containerPort: ${declared[0]}`,
        kind: 'spec',
        origin: facts.primaryPod?.origin ?? 'input',
        object: `container ${container.name}`,
      });
    }
  }
  if (failure.kind === 'http-status' && failure.status === 404) {
    const path = probe?.path ?? failure.path;
    const served = servedPaths(facts).filter((candidate) => candidate.path !== path);
    const wanted = failure.probe === 'readiness' ? /ready/i : /live|health|alive|ping|status/i;
    const fromLogs =
      served.find((candidate) => wanted.test(candidate.path)) ??
      (served.length === 1 ? served[0] : undefined);
    const other = failure.probe === 'liveness' ? container.readiness : container.liveness;
    const otherFailing = probeFailures(facts).some(
      (f) => f.probe !== failure.probe && f.kind === 'http-status' && f.status === 404,
    );
    if (fromLogs) {
      out.suggestedPath = fromLogs.path;
      evidence.push(logEvidence(fromLogs.line));
    } else if (other?.path && other.path !== path && !otherFailing) {
      out.suggestedPath = other.path;
    }
  }
  if (
    failure.kind === 'http-status' &&
    failure.status === 400 &&
    probe?.handler === 'httpGet' &&
    asString(at(probe.raw, 'httpGet', 'scheme')) !== 'HTTPS'
  ) {
    const tls = facts.findLog(
      /plain HTTP request was sent to HTTPS port|client sent an HTTP request to an HTTPS server|\bssl\b|\btls\b|https/i,
    );
    const tlsConfig = facts.ctx.objects.some(
      (o) =>
        o.kind === 'ConfigMap' &&
        /listen\s+\d+\s+ssl|ssl_certificate|tls\.crt/.test(JSON.stringify(o.raw.data ?? {})),
    );
    if (tls || tlsConfig || /\btls\b|https/i.test(facts.ctx.issue)) {
      out.suggestedScheme = 'HTTPS';
      if (tls) evidence.push(logEvidence(tls));
    }
  }
  if (
    failure.kind === 'exec' &&
    probe?.handler === 'exec' &&
    /NOAUTH|Authentication required|WRONGPASS|invalid password|authentication failed/i.test(
      failure.event.message,
    )
  ) {
    const secretEnv = container.envNames.find((name) => /PASS(?:WORD)?|AUTH|TOKEN/i.test(name));
    if (secretEnv) out.authEnv = secretEnv;
  }
  return {
    ...out,
    probePort: probe?.port ?? failure.port,
    probePath: probe?.path ?? failure.path,
  };
}

function describeFailure(failure: ProbeFailure, details: Partial<FindingDetails>): string {
  switch (failure.kind) {
    case 'connection-refused':
      return details.suggestedPort
        ? `nothing listens on port ${details.probePort ?? failure.port}: the application listens on ${details.suggestedPort}`
        : `the connection to port ${details.probePort ?? failure.port ?? '?'} is refused (nothing listens there)`;
    case 'http-status':
      return details.suggestedPath
        ? `path ${details.probePath ?? failure.path} answers HTTP ${failure.status}; the application serves ${details.suggestedPath}`
        : `the endpoint answers HTTP ${failure.status ?? '?'}`;
    case 'timeout':
      return 'the probe times out before the application answers';
    case 'exec':
      return 'the probe command fails';
    default:
      return 'the probe fails';
  }
}

function probeRule(kind: 'liveness' | 'readiness'): Rule {
  const category = kind === 'liveness' ? 'liveness-probe-failure' : 'readiness-probe-failure';
  return {
    category,
    evaluate(facts) {
      const failures = probeFailures(facts).filter((f) =>
        kind === 'liveness' ? f.probe === 'liveness' || f.probe === 'startup' : f.probe === 'readiness',
      );
      const kills = livenessKills(facts);
      const evidence: Evidence[] = [];
      const factors: string[] = [];
      let confidence: number;
      const first = failures.at(-1);
      if (kind === 'liveness') {
        if (failures.length === 0 && kills.length === 0) return undefined;
        confidence =
          failures.length > 0 && kills.length > 0
            ? CONFIDENCE.certain
            : kills.length > 0
              ? CONFIDENCE.good
              : CONFIDENCE.good - 0.05;
        evidence.push(
          ...failures.slice(-2).map((f) => eventEvidence(f.event)),
          ...kills.slice(0, 1).map(eventEvidence),
        );
        const killed = terminations(facts).find(
          (t) => t.which === 'lastState' && (t.exitCode === 137 || t.exitCode === 143),
        );
        if (killed) {
          evidence.push(
            statusEvidence(
              killed.pod,
              containerPath(killed.container, 'lastState.terminated'),
              `reason=${killed.reason ?? 'unknown'} exitCode=${killed.exitCode}`,
            ),
          );
        }
        if (terminations(facts).some((t) => t.reason === 'OOMKilled')) confidence = CONFIDENCE.moderate;
      } else {
        if (failures.length === 0) return undefined;
        if (kills.length > 0) return undefined; // restarts: the liveness rule explains it
        confidence = CONFIDENCE.strong - 0.05;
        evidence.push(...failures.slice(-2).map((f) => eventEvidence(f.event)));
        const notReady = facts.primaryPod?.conditions.find((c) => c.type === 'Ready' && c.status === 'False');
        if (notReady && facts.primaryPod) {
          evidence.push(
            statusEvidence(
              facts.primaryPod,
              'status.conditions[Ready]',
              `False${notReady.reason ? ` (${notReady.reason})` : ''}`,
            ),
          );
          confidence = CONFIDENCE.strong;
        }
        const readyNow =
          facts.primaryPod?.hasStatus &&
          facts.primaryPod.containers.length > 0 &&
          facts.primaryPod.containers.every((c) => c.status?.ready === true);
        if (readyNow) {
          confidence = CONFIDENCE.weak;
          factors.push('the containers are ready now: the probe failures were transient');
        }
      }
      const failure = first ?? failures[0];
      const container = failure ? containerFor(facts, failure) : undefined;
      const details: Partial<FindingDetails> = failure ? suggestFix(facts, container, failure, evidence) : {};

      // Timeouts under heavy CPU throttling, or a downstream dependency that is down, are the root.
      const throttled = throttlingRatio(facts);
      if (failure?.kind === 'timeout' && throttled !== undefined && throttled.ratio >= 0.25) {
        confidence -= 0.2;
        factors.push(
          `CPU is throttled ${percent(throttled.ratio)} of periods: the probe times out because the CPU limit is too low`,
        );
      }
      const dependency = facts.findLog(DEPENDENCY_ERROR);
      if (
        dependency &&
        !details.suggestedPort &&
        !details.suggestedPath &&
        !details.suggestedScheme &&
        failure?.kind !== 'connection-refused'
      ) {
        // A probe that reports a downstream outage: the dependency is the cause. When the kubelet
        // kills the container for it, the probe is still what restarts it.
        const serverError = failure?.kind === 'http-status' && (failure.status ?? 0) >= 500;
        confidence -=
          kills.length > 0 && kind === 'liveness'
            ? 0.05
            : serverError || failure?.kind === 'timeout'
              ? 0.3
              : 0.2;
        factors.push(`the application reports a dependency failure: "${dependency.line.trim()}"`);
      }
      if (
        failure?.kind === 'connection-refused' &&
        !details.suggestedPort &&
        facts.primaryPod?.containers.some((c) => (c.status?.restartCount ?? 0) > 0) &&
        kind === 'liveness'
      ) {
        factors.push('the application may be slow to start listening; a startupProbe would protect it');
      }

      const action =
        kind === 'liveness'
          ? 'the kubelet kills and restarts the container'
          : 'the pod is marked unready and receives no traffic';
      const what = failure ? describeFailure(failure, details) : 'the probe fails';
      return finding(category, facts, {
        confidence,
        rootCause: `The ${failure?.probe ?? kind} probe of ${containerPhrase(facts, container?.name)} fails: ${what}; ${action}.`,
        factors,
        evidence,
        details: {
          ...details,
          container: container?.name,
          probe: failure?.probe === 'startup' ? 'startup' : kind,
          probeFailure: failure?.kind,
          httpStatus: failure?.status,
        },
      });
    },
  };
}

export const livenessProbeRule = probeRule('liveness');
export const readinessProbeRule = probeRule('readiness');
