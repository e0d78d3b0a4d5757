/**
 * How long verification watches a change, from the evidence of the failure (ADR 0032):
 *
 * - a container that ran N s before it failed (crash, OOM kill, liveness kill; from its
 *   `lastState.terminated` `startedAt`/`finishedAt`) must, in the new pods, run SURVIVAL_FACTOR × N,
 *   and always longer than the old one can have run: timestamps have one-second resolution, so a
 *   run reported as N s lasted less than N + 1 s (N = 0: under a second → 1 s);
 * - a failing readiness probe must hold for `failureThreshold` probes at its period (a liveness or
 *   startup probe: its initial delay plus as many probes, in the container's run time); the period is
 *   the spec's, or the kubelet's measured cadence (from the `Unhealthy` event's count and
 *   timestamps) when that is shorter;
 * - a live change to an object Argo CD or Flux own: at least the policy's `verifyRevertWindow`, for
 *   their self-heal or reconcile to revert it while verification still watches (ADR 0031);
 * - never less than the policy's `verifyMinStability`, never more than its `verifyMaxStability`.
 */
import {
  asNumber,
  type DesiredStateOwner,
  type RemediationAction,
  type VerificationPlan,
} from '../domain/index.js';
import type { Facts } from '../analysis/facts.js';
import type { Finding } from '../analysis/finding.js';
import type { ContainerView, NormalizedEvent, ProbeView } from '../context/model.js';
import { parseDuration, type Policy } from './policy.js';

/** A container that ran N s before it failed must run this many times N in the new pods. */
export const SURVIVAL_FACTOR = 2;

/** Kinds whose change rolls out new pods, so container and probe evidence applies. */
const ROLLOUT_KINDS: ReadonlySet<string> = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

const SECOND = 1_000;
type ProbeKind = 'liveness' | 'readiness' | 'startup';

interface Candidate {
  readonly ms: number;
  readonly basis: string;
}

function seconds(ms: number): string {
  return ms % SECOND === 0 ? `${ms / SECOND} s` : `${(ms / SECOND).toFixed(1)} s`;
}

/** Containers that ran for a while and then failed: the longest run bounds the survival time. */
function crashEvidence(facts: Facts): Candidate | undefined {
  let best: Candidate | undefined;
  for (const { container } of facts.containers()) {
    const status = container.status;
    for (const terminated of [status?.lastState.terminated, status?.state.terminated]) {
      if (!terminated?.startedAt || !terminated.finishedAt) continue;
      if (terminated.exitCode === 0 && terminated.reason !== 'OOMKilled') continue;
      const started = Date.parse(terminated.startedAt);
      const finished = Date.parse(terminated.finishedAt);
      // A container that never started reports the zero time (1970) as startedAt.
      if (!(started > 0) || !(finished >= started)) continue;
      // Whole seconds: the run lasted between diff − 1 s and diff + 1 s, diff on average.
      const diff = finished - started;
      const ms = Math.max(diff + SECOND, SURVIVAL_FACTOR * diff);
      if (best && best.ms >= ms) continue;
      const why = terminated.reason ?? `exit ${terminated.exitCode ?? '?'}`;
      const exit =
        terminated.exitCode !== undefined && terminated.reason ? `, exit ${terminated.exitCode}` : '';
      best = {
        ms,
        basis: `container ${container.name} ended ${seconds(diff)} after it started (${why}${exit}; timestamps in whole seconds): each new container must run ${seconds(ms)}, longer than the old one can have run and ${SURVIVAL_FACTOR} × its run`,
      };
    }
  }
  return best;
}

const PROBE_MESSAGE: Readonly<Record<ProbeKind, RegExp>> = {
  liveness: /^Liveness probe (failed|errored)/,
  readiness: /^Readiness probe (failed|errored)/,
  startup: /^Startup probe (failed|errored)/,
};

function containerOfEvent(event: NormalizedEvent): string | undefined {
  return /spec\.(?:init)?[cC]ontainers\{([^}]+)\}/.exec(event.object.fieldPath ?? '')?.[1];
}

/** The kubelet's real probe cadence, from a repeated Unhealthy event (count ≥ 3), in ms. */
function measuredPeriod(events: readonly NormalizedEvent[]): number | undefined {
  let best: number | undefined;
  for (const event of events) {
    if (event.count < 3 || !event.firstSeen || !event.lastSeen) continue;
    const span = Date.parse(event.lastSeen) - Date.parse(event.firstSeen);
    if (!(span >= 0)) continue;
    const period = (span + SECOND) / (event.count - 1);
    best = best === undefined ? period : Math.min(best, period);
  }
  return best;
}

function probeOf(container: ContainerView, kind: ProbeKind): ProbeView | undefined {
  return kind === 'liveness'
    ? container.liveness
    : kind === 'readiness'
      ? container.readiness
      : container.startup;
}

/** Failing probes (from Unhealthy events, or the finding's), and what passing them takes. */
function probeEvidence(facts: Facts, finding: Finding): { stability?: Candidate; survival?: Candidate } {
  const failing = new Map<string, { container: ContainerView; kind: ProbeKind; events: NormalizedEvent[] }>();
  const note = (container: ContainerView, kind: ProbeKind, event?: NormalizedEvent) => {
    const key = `${container.name}/${kind}`;
    const entry = failing.get(key) ?? { container, kind, events: [] };
    if (event) entry.events.push(event);
    failing.set(key, entry);
  };
  const containers = facts.containers().map((c) => c.container);
  for (const event of facts.eventsWithReason('Unhealthy')) {
    const kind = (Object.keys(PROBE_MESSAGE) as ProbeKind[]).find((k) =>
      PROBE_MESSAGE[k].test(event.message),
    );
    const name = containerOfEvent(event);
    const container = containers.find((c) => c.name === name && kind && probeOf(c, kind));
    if (kind && container) note(container, kind, event);
  }
  const { probe, container: named } = finding.details;
  const container = containers.find((c) => c.name === named && probe && probeOf(c, probe));
  if (probe && container) note(container, probe);

  let stability: Candidate | undefined;
  let survival: Candidate | undefined;
  for (const { container, kind, events } of failing.values()) {
    const raw = probeOf(container, kind)?.raw ?? {};
    const specPeriod = (asNumber(raw['periodSeconds']) ?? 10) * SECOND;
    const threshold = asNumber(raw['failureThreshold']) ?? 3;
    const measured = measuredPeriod(events);
    const period = measured !== undefined && measured < specPeriod ? measured : specPeriod;
    const scale = period / specPeriod;
    const cadence =
      period < specPeriod
        ? `${seconds(Math.round(period))} as the kubelet probed (spec ${seconds(specPeriod)})`
        : seconds(specPeriod);
    const window = Math.round(threshold * period);
    if (kind === 'readiness') {
      if (!stability || stability.ms < window)
        stability = {
          ms: window,
          basis: `the readiness probe of ${container.name} failed: Ready must hold for failureThreshold ${threshold} × ${cadence} = ${seconds(window)}`,
        };
      continue;
    }
    const delay = Math.round((asNumber(raw['initialDelaySeconds']) ?? 0) * SECOND * scale);
    const ms = delay + window;
    if (!survival || survival.ms < ms)
      survival = {
        ms,
        basis: `the ${kind} probe of ${container.name} failed: each new container must pass failureThreshold ${threshold} probes at ${cadence}${delay ? ` after its ${seconds(delay)} initial delay` : ''} = ${seconds(ms)}`,
      };
  }
  return { ...(stability ? { stability } : {}), ...(survival ? { survival } : {}) };
}

/**
 * How long a live change to a managed object is watched for a revert. Argo CD's self-heal reverts
 * drift seconds after its watch sees it and Flux at its next reconcile, so verification waits the
 * policy's `verifyRevertWindow` for them; a plain Helm release changes only at the next
 * `helm upgrade` (a person or a pipeline), which no window can wait for.
 */
function revertWindow(owner: DesiredStateOwner, policy: Policy): Candidate {
  if (owner.manager === 'helm')
    return {
      ms: 0,
      basis: `${owner.owner} must not revert the change within the window (Helm reverts it at the next helm upgrade, which no window waits for)`,
    };
  return {
    ms: parseDuration(policy.verifyRevertWindow),
    basis: `${owner.owner} must not revert the change for ${policy.verifyRevertWindow} (the policy's verifyRevertWindow: ${owner.manager === 'argocd' ? "Argo CD's self-heal reverts drift seconds after it sees it" : 'Flux reverts drift at its next reconcile, which may come later'})`,
  };
}

/** The verification plan of one executable action: its windows and the evidence behind them. */
export function verificationPlanFor(
  action: RemediationAction,
  facts: Facts,
  finding: Finding,
  policy: Policy,
  revertWatch?: DesiredStateOwner,
): VerificationPlan {
  const floor = parseDuration(policy.verifyMinStability);
  const ceiling = parseDuration(policy.verifyMaxStability);
  const rollout = ROLLOUT_KINDS.has(action.target.kind);
  const probes = rollout ? probeEvidence(facts, finding) : {};
  const crash = rollout ? crashEvidence(facts) : undefined;
  const survivalCandidates = [crash, probes.survival].filter((c): c is Candidate => c !== undefined);
  const basis: string[] = [];
  let stabilityMs = floor;
  if (probes.stability) {
    stabilityMs = Math.max(floor, probes.stability.ms);
    basis.push(probes.stability.basis);
  }
  let survivalMs: number | undefined;
  for (const candidate of survivalCandidates) {
    basis.push(candidate.basis);
    survivalMs = Math.max(survivalMs ?? 0, candidate.ms);
  }
  if (floor > 0 && stabilityMs === floor && (probes.stability?.ms ?? 0) < floor)
    basis.push(`healthy for at least ${policy.verifyMinStability} (the policy's verifyMinStability)`);
  if (revertWatch) {
    const revert = revertWindow(revertWatch, policy);
    stabilityMs = Math.max(stabilityMs, revert.ms);
    basis.push(revert.basis);
  }
  if (basis.length === 0)
    basis.push(
      `no failure evidence asks for a window: verified once the rollout is complete and available (verifyMinStability ${policy.verifyMinStability})`,
    );
  if (stabilityMs > ceiling || (survivalMs ?? 0) > ceiling)
    basis.push(`capped at ${policy.verifyMaxStability} (the policy's verifyMaxStability)`);
  stabilityMs = Math.min(stabilityMs, ceiling);
  if (survivalMs !== undefined) survivalMs = Math.min(survivalMs, ceiling);
  return {
    stabilityMs,
    ...(survivalMs !== undefined ? { survivalMs } : {}),
    basis,
    ...(revertWatch ? { revertWatch } : {}),
  };
}
