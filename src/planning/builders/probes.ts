/**
 * Liveness and readiness probe failures: point the probe at what the application serves (port,
 * scheme, path, credentials), protect a slow start, or give a slow answer more time. The probe
 * always stays; when the evidence shows no wrong setting, a person investigates.
 */
import type { ContainerView, ProbeView } from '../../context/model.js';
import type { WorkloadRef } from '../../context/owners.js';
import {
  advise,
  type BuilderContext,
  builderOf,
  containerFix,
  rolloutVerification,
  type Strategy,
  within,
} from './shared.js';
import { asArray, asObject, at, type ActionDraft } from '../../domain/index.js';

type ProbeField = 'livenessProbe' | 'readinessProbe' | 'startupProbe';

/** A failing probe of a container kubemend can patch. */
interface FailingProbe extends BuilderContext {
  readonly workload: WorkloadRef;
  readonly container: string;
  readonly field: ProbeField;
  readonly view?: ContainerView;
  readonly probe?: ProbeView;
  /** The handler a port change applies to. */
  readonly handler: 'httpGet' | 'tcpSocket';
  readonly verification: string;
}

function fieldOf(probe: BuilderContext['details']['probe']): ProbeField {
  return probe === 'readiness' ? 'readinessProbe' : probe === 'startup' ? 'startupProbe' : 'livenessProbe';
}

function failingProbe(context: BuilderContext): FailingProbe | undefined {
  const { details: d, controlled, facts, verifyTimeout } = context;
  if (!controlled || !d.container) return undefined;
  const view = facts.containers().find((c) => c.container.name === d.container)?.container;
  const probe =
    d.probe === 'readiness' ? view?.readiness : d.probe === 'startup' ? view?.startup : view?.liveness;
  return {
    ...context,
    workload: controlled,
    container: d.container,
    field: fieldOf(d.probe),
    view,
    probe,
    handler: probe?.handler === 'tcpSocket' ? 'tcpSocket' : 'httpGet',
    verification: rolloutVerification(
      controlled,
      verifyTimeout,
      `no ${d.probe ?? ''} probe failures are reported and the container does not restart`,
    ),
  };
}

/** A patch of the container's probes (the probe stays; only the fields given change), verified by a rollout. */
function patchProbes(
  scope: FailingProbe,
  fields: Record<string, unknown>,
  text: { description: string; rationale: string },
): ActionDraft {
  return containerFix(scope.workload, scope.container, fields, { ...text, verification: scope.verification });
}

/** The probe checks a port where nothing listens; the application listens on another. */
const wrongPort: Strategy<FailingProbe> = (scope) => {
  const { details: d, field, handler } = scope;
  if (d.suggestedPort === undefined) return undefined;
  return patchProbes(
    scope,
    { [field]: { [handler]: { port: d.suggestedPort } } },
    {
      description: `Point the ${d.probe} probe of container ${scope.container} at port ${d.suggestedPort}`,
      rationale: `The probe checks port ${d.probePort ?? '?'} where nothing listens; the application listens on ${d.suggestedPort}. The probe stays; only its port changes.`,
    },
  );
};

/** The endpoint now serves TLS and answers plain HTTP with 400. */
const wrongScheme: Strategy<FailingProbe> = (scope) => {
  const { details: d, field, handler } = scope;
  if (!d.suggestedScheme || handler !== 'httpGet') return undefined;
  return patchProbes(
    scope,
    { [field]: { httpGet: { scheme: d.suggestedScheme } } },
    {
      description: `Make the ${d.probe} probe of container ${scope.container} use HTTPS`,
      rationale:
        'The endpoint now serves TLS and answers a plain-HTTP probe with HTTP 400; the probe stays and switches its scheme to HTTPS (the kubelet does not verify the certificate).',
    },
  );
};

/** A redis-cli exec probe refused (NOAUTH) since the server requires a password. */
const unauthenticatedExec: Strategy<FailingProbe> = (scope) => {
  const { details: d, field, probe, view } = scope;
  if (!d.authEnv || probe?.handler !== 'exec') return undefined;
  const command = asArray(at(probe.raw, 'exec', 'command')).map((part) => String(part));
  const joined = command.join(' ');
  if (!/redis-cli/.test(joined) || /\s-a\s|--pass|REDISCLI_AUTH/.test(joined)) return undefined;
  const script = `REDISCLI_AUTH="$${d.authEnv}" ${command.filter((part) => !/^(?:sh|bash|\/bin\/sh|-c)$/.test(part)).join(' ')}`;
  const fields: Record<string, unknown> = {};
  // Every probe that runs the same command gets the credential, not only the one that failed.
  for (const other of ['livenessProbe', 'readinessProbe'] as const) {
    const spec = asObject(at(view?.spec, other));
    if (spec && JSON.stringify(at(spec, 'exec', 'command')) === JSON.stringify(command))
      fields[other] = { exec: { command: ['sh', '-c', script] } };
  }
  if (Object.keys(fields).length === 0) fields[field] = { exec: { command: ['sh', '-c', script] } };
  return patchProbes(scope, fields, {
    description: `Make the probes of container ${scope.container} authenticate with $${d.authEnv}`,
    rationale: `The server now requires a password, so the probe command is refused (NOAUTH) and the kubelet restarts a healthy server. The probe keeps its check and reads the password from the container's ${d.authEnv} variable; the server's configuration is not touched.`,
  });
};

/** The probe path answers 404; the application serves another path. */
const wrongPath: Strategy<FailingProbe> = (scope) => {
  const { details: d, field, handler } = scope;
  if (d.suggestedPath === undefined || handler !== 'httpGet') return undefined;
  return patchProbes(
    scope,
    { [field]: { httpGet: { path: d.suggestedPath } } },
    {
      description: `Point the ${d.probe} probe of container ${scope.container} at ${d.suggestedPath}`,
      rationale: `The probe path ${d.probePath ?? '?'} answers HTTP ${d.httpStatus ?? 404}; the application serves ${d.suggestedPath}. The probe stays; only its path changes.`,
    },
  );
};

function timeoutOf(raw: Record<string, unknown>): number {
  return typeof raw.timeoutSeconds === 'number' ? raw.timeoutSeconds : 1;
}

/** Slow start: a startupProbe with the same check protects the container until it answers. */
const slowStart: Strategy<FailingProbe> = (scope) => {
  const { details: d, field, view } = scope;
  const raw = scope.probe?.raw;
  if (!raw || (d.probeFailure !== 'timeout' && d.probeFailure !== 'connection-refused')) return undefined;
  if (d.probe === 'readiness' || view?.startup) return undefined;
  const startup: Record<string, unknown> = { failureThreshold: 30, periodSeconds: 10 };
  for (const key of ['httpGet', 'tcpSocket', 'exec', 'grpc'])
    if (raw[key] !== undefined) startup[key] = raw[key];
  const fields: Record<string, unknown> = { startupProbe: startup };
  if (d.probeFailure === 'timeout') fields[field] = { timeoutSeconds: Math.max(timeoutOf(raw) * 3, 5) };
  return patchProbes(scope, fields, {
    description: `Add a startupProbe to container ${scope.container}${d.probeFailure === 'timeout' ? ' and give the liveness probe more time' : ''}`,
    rationale:
      'The liveness probe kills the container before it is ready to answer; a startupProbe with the same check gives it up to 5 minutes to start, after which the liveness probe applies unchanged.',
  });
};

/** The application answers, slowly: the same check with a longer timeout. */
const slowAnswer: Strategy<FailingProbe> = (scope) => {
  const { details: d, field } = scope;
  const raw = scope.probe?.raw;
  if (!raw || d.probeFailure !== 'timeout') return undefined;
  const timeout = timeoutOf(raw);
  const threshold = typeof raw.failureThreshold === 'number' ? raw.failureThreshold : 3;
  const longer = Math.max(timeout * 3, 5);
  return patchProbes(
    scope,
    { [field]: { timeoutSeconds: longer, failureThreshold: Math.max(threshold, 3) } },
    {
      description: `Give the ${d.probe} probe of container ${scope.container} a ${longer}s timeout`,
      rationale: `The probe times out after ${timeout}s while the application answers slowly; a longer timeout keeps the check without false failures.`,
    },
  );
};

const FIXES: readonly Strategy<FailingProbe>[] = [
  wrongPort,
  wrongScheme,
  unauthenticatedExec,
  wrongPath,
  slowStart,
  slowAnswer,
];

export const probeFix = builderOf([within(failingProbe, FIXES)], (context) => {
  const d = context.details;
  const field = fieldOf(d.probe);
  if (!context.controlled || !d.container) {
    return advise(context, {
      description: `Fix the ${d.probe ?? 'probe'} probe`,
      instructions: `Correct the ${field} of container ${d.container ?? ''} so it checks an endpoint the application serves.`,
      rationale: 'The pod has no controller that kubemend can patch.',
    });
  }
  return advise(context, {
    description: `Investigate why the ${d.probe} probe fails`,
    instructions: `The ${field} of container ${d.container} fails${d.httpStatus ? ` with HTTP ${d.httpStatus}` : ''}. Check the endpoint from inside the pod (kubectl exec ... -- wget -qO- http://localhost:${d.probePort ?? '<port>'}${d.probePath ?? ''}) and fix the application or the probe. Do not remove the probe.`,
    rationale: 'The evidence does not show a wrong port or path: the application itself reports unhealthy.',
  });
});
