/**
 * Verification after a change (ADR 0032): within the timeout the target must become healthy, then
 * stay so — no new restarts, every container running long enough — for the windows of the action's
 * verification plan (computed by the planner from the evidence), and, for a live change to an object
 * Argo CD, Flux or Helm own, the change must still be there. The target, its ReplicaSets and its pods
 * are listed and then watched from the list's resourceVersion (`informer.ts`), so each state is
 * judged as it arrives; a timer wakes verification only when a window can end. Time comes from the
 * injected clock and waiting from the injected sleep.
 */
import type { KubeObject, ObjectKey } from '../cluster/gateway.js';
import type { VerificationPlan } from '../domain/index.js';
import { revertedChange } from './compare.js';
import { describe } from './describe.js';
import { assessHealth, type HealthSource, type HealthView, healthSources } from './health.js';
import { Informer } from './informer.js';
import type { ExecutionPorts } from './run.js';
import { StabilityTracker, type Verification } from './stability.js';

export type { Verification } from './stability.js';

type VerifyPorts = Pick<ExecutionPorts, 'gateway' | 'clock' | 'sleep' | 'pollIntervalMs' | 'stabilityMs'>;

export interface VerifyRequest {
  readonly key: ObjectKey;
  readonly timeoutMs: number;
  /** The planner's windows; without one, `stabilityMs` of the ports is the window. */
  readonly plan?: VerificationPlan;
  /** The object before kubemend's change and right after it (for the plan's `revertWatch`). */
  readonly snapshot?: KubeObject;
  readonly applied?: KubeObject;
}

function viewOf(informers: ReadonlyArray<Informer<HealthSource>>): HealthView {
  let view: HealthView = { object: undefined };
  for (const informer of informers) {
    const items = informer.objects();
    const role = informer.source.role;
    if (role === 'object') view = { ...view, object: items[0] };
    else if (role === 'endpoints') view = { ...view, ...(items[0] ? { endpoints: items[0] } : {}) };
    else view = { ...view, [role]: items };
  }
  return view;
}

export async function verify(ports: VerifyPorts, request: VerifyRequest): Promise<Verification> {
  const { key, plan } = request;
  const now = () => ports.clock().getTime();
  const window = plan
    ? {
        stabilityMs: plan.stabilityMs,
        ...(plan.survivalMs !== undefined ? { survivalMs: plan.survivalMs } : {}),
      }
    : { stabilityMs: ports.stabilityMs };
  const tracker = new StabilityTracker(window, now(), request.timeoutMs);
  const revert = plan?.revertWatch && request.snapshot && request.applied ? plan.revertWatch : undefined;
  const stop = new AbortController();
  let wake: (() => void) | undefined;
  try {
    // The object itself says what else to watch (its pod selector).
    let object: KubeObject | undefined;
    for (;;) {
      try {
        object = await ports.gateway.get(key);
        break;
      } catch (error) {
        tracker.last = `health check failed: ${describe(error)}`;
        const verdict = tracker.verdict(now());
        if (verdict) return verdict;
        await ports.sleep(ports.pollIntervalMs);
      }
    }
    const informers: Array<Informer<HealthSource>> = [];
    const judge = () => {
      const failed = informers.find((informer) => informer.failure !== undefined);
      if (failed?.failure) tracker.last = `health check failed: ${failed.failure}`;
      if (!informers.every((informer) => informer.synced)) return;
      const view = viewOf(informers);
      tracker.observe(assessHealth(key, view), now());
      const reverted = revert ? revertedChange(request.snapshot!, request.applied!, view.object) : undefined;
      if (reverted && revert)
        tracker.fail(
          `the change was reverted within the stability window, presumably by ${revert.owner}: ${reverted}`,
        );
    };
    for (const source of healthSources(key, object)) {
      const onChange = () => {
        judge();
        wake?.();
      };
      informers.push(new Informer(ports.gateway, source, onChange, ports.sleep, ports.pollIntervalMs, now));
    }
    for (const informer of informers) void informer.run(stop.signal);
    await Promise.all(informers.map((informer) => informer.attempted));
    for (;;) {
      const verdict = tracker.verdict(now());
      // Success only on a copy that cannot have missed a change (not while listing again).
      const current = informers.every((informer) => informer.current);
      if (verdict && (!verdict.ok || current)) return verdict;
      const waitMs = current && !verdict ? Math.max(1, tracker.nextCheck() - now()) : ports.pollIntervalMs;
      const timer = new AbortController();
      const woken = new Promise<void>((resolve) => (wake = resolve));
      await Promise.race([woken, ports.sleep(waitMs, timer.signal)]);
      timer.abort();
      wake = undefined;
    }
  } finally {
    stop.abort();
  }
}
