/**
 * The verdict of a verification, from the health reports it observes over time (ADR 0032). Pure:
 * time comes in with each observation, so a watch feeds it every state as it arrives and a timer
 * asks it again when the next window can end.
 *
 * - Fails at once on a failure that waiting will not heal, on a new restart of a container of the
 *   workload (a pod created after the change counts from zero), or when the change is reverted.
 * - Verified when the workload has been healthy for `stabilityMs` without a break and every running
 *   container of its pods has run for `survivalMs`: since kubemend first saw it so, or, for pods
 *   that were Ready (a container that was running) well before — pods a rollback kept — since
 *   their latest Ready transition (its start) by the node's clock.
 * - Fails when it is not healthy within the timeout, or not stable within the timeout plus the
 *   windows.
 */
import type { HealthReport } from './health.js';

/** Resolution of a container's startedAt (1 s) plus the clock difference tolerated between nodes and kubemend (1 s). */
const CLOCK_MARGIN_MS = 2_000;

export interface VerificationWindow {
  readonly stabilityMs: number;
  readonly survivalMs?: number;
}

export interface Verification {
  readonly ok: boolean;
  readonly detail: string;
}

function seconds(ms: number): string {
  return ms % 1_000 === 0 ? `${ms / 1_000}s` : `${(ms / 1_000).toFixed(1)}s`;
}

export class StabilityTracker {
  /** The latest report's words. */
  last = 'not checked';
  private healthySince?: number;
  private latest?: HealthReport;
  private failure?: string;
  /** Restart counts when each container was first seen. */
  private readonly baseline = new Map<string, number>();
  /** When each container instance (`pod/container@id`) was first seen running. */
  private readonly runningSince = new Map<string, number>();

  constructor(
    readonly window: VerificationWindow,
    private readonly startedAt: number,
    private readonly timeoutMs: number,
  ) {}

  private get deadline(): number {
    return this.startedAt + this.timeoutMs;
  }

  /** Healthy or not, the latest time a verdict can wait for. */
  private get hardStop(): number {
    return this.deadline + Math.max(this.window.stabilityMs, this.window.survivalMs ?? 0);
  }

  /** A pod created in a later second than the change began: all its restarts came after it. */
  private isNew(report: HealthReport, container: string): boolean {
    const created = report.created?.[container.split('/')[0] ?? ''];
    const at = created === undefined ? NaN : Date.parse(created);
    return at >= Math.floor(this.startedAt / 1_000) * 1_000 + 1_000;
  }

  observe(report: HealthReport, now: number): void {
    if (this.failure !== undefined) return;
    this.latest = report;
    this.last = report.detail;
    if (report.failing) {
      this.failure = report.detail;
      return;
    }
    for (const [container, count] of Object.entries(report.restarts ?? {})) {
      const seen = this.baseline.get(container) ?? (this.isNew(report, container) ? 0 : count);
      this.baseline.set(container, seen);
      if (count > seen) {
        this.failure = `${container} restarted ${count - seen} time(s) after the change (${report.detail})`;
        return;
      }
    }
    for (const [container, id] of Object.entries(report.running ?? {})) {
      const key = `${container}@${id}`;
      if (this.runningSince.has(key)) continue;
      // A container that was running long before (a kept pod of a rollback) has run since then:
      // its start by the node's clock counts, 2 s later (whole seconds, and clocks a second apart).
      const started = Date.parse(report.startedAt?.[container] ?? '') + CLOCK_MARGIN_MS;
      this.runningSince.set(key, Number.isFinite(started) ? Math.min(now, started) : now);
    }
    if (!report.healthy) this.healthySince = undefined;
    else if (this.healthySince === undefined) {
      // Pods that have been Ready since well before (those a rollback kept) have held that long.
      const ready = Date.parse(report.readySince ?? '') + CLOCK_MARGIN_MS;
      this.healthySince = Number.isFinite(ready) ? Math.min(now, ready) : now;
    }
  }

  /** Something other than health failed the verification (e.g. the change was reverted). */
  fail(detail: string): void {
    this.failure ??= detail;
  }

  /** Running containers of the latest report and when each was first seen running. */
  private running(): number[] {
    return Object.entries(this.latest?.running ?? {}).map(
      ([container, id]) => this.runningSince.get(`${container}@${id}`) ?? Infinity,
    );
  }

  verdict(now: number): Verification | undefined {
    if (this.failure !== undefined) return { ok: false, detail: this.failure };
    const { stabilityMs, survivalMs } = this.window;
    if (this.healthySince !== undefined) {
      const stable = now - this.healthySince >= stabilityMs;
      const survived = survivalMs === undefined || this.running().every((since) => now - since >= survivalMs);
      if (stable && survived)
        return {
          ok: true,
          detail: `healthy: ${this.last}, no restarts for ${seconds(now - this.healthySince)}${survivalMs !== undefined ? `; every container ran at least ${seconds(survivalMs)}` : ''}`,
        };
      if (now >= this.hardStop)
        return {
          ok: false,
          detail: `not stable within ${seconds(this.hardStop - this.startedAt)}: ${this.last}`,
        };
      return undefined;
    }
    if (now >= this.deadline)
      return { ok: false, detail: `not healthy within ${seconds(this.timeoutMs)}: ${this.last}` };
    return undefined;
  }

  /** When the verdict can next change without a new observation (a window ends, a deadline passes). */
  nextCheck(): number {
    if (this.healthySince === undefined) return this.deadline;
    let end = this.healthySince + this.window.stabilityMs;
    const survival = this.window.survivalMs;
    if (survival !== undefined)
      for (const since of this.running()) if (Number.isFinite(since)) end = Math.max(end, since + survival);
    return Math.min(this.hardStop, end);
  }
}
