/** Per-target cooldown and per-hour action budget (policy `cooldown`, `maxActionsPerHour`). */
import type { RemediationAction } from '../domain/index.js';
import { actionLabel } from '../execution/run.js';
import { parseDuration, type Policy } from '../planning/policy.js';

export class ActionRateGuard {
  private readonly lastChange = new Map<string, number>();
  private readonly recent: number[] = [];

  /** Why `action` may not execute now under `policy`, or undefined when it may. */
  check(action: RemediationAction, policy: Policy, now: number): string | undefined {
    const key = actionLabel(action);
    const last = this.lastChange.get(key);
    if (last !== undefined && now - last < parseDuration(policy.cooldown)) {
      return `${key} was changed ${Math.round((now - last) / 1000)}s ago; the policy's cooldown is ${policy.cooldown}`;
    }
    while (this.recent.length > 0 && now - this.recent[0]! > 3_600_000) this.recent.shift();
    if (this.recent.length >= policy.maxActionsPerHour)
      return `the policy allows ${policy.maxActionsPerHour} actions per hour`;
    return undefined;
  }

  /** Counts a change to `action`'s target at `now`. */
  note(action: RemediationAction, now: number): void {
    this.lastChange.set(actionLabel(action), now);
    this.recent.push(now);
  }
}
