/**
 * Verification after a change: within the policy's timeout the workload must become healthy and
 * then stay so, with no new container restarts, for the stability window. Time comes from the
 * injected clock and waiting from the injected sleep.
 */
import type { ObjectKey } from '../cluster/gateway.js';
import { describe } from './describe.js';
import { checkHealth } from './health.js';
import type { ExecutionPorts } from './run.js';

export interface Verification {
  readonly ok: boolean;
  readonly detail: string;
}

type VerifyPorts = Pick<ExecutionPorts, 'gateway' | 'clock' | 'sleep' | 'pollIntervalMs' | 'stabilityMs'>;

export async function verify(ports: VerifyPorts, key: ObjectKey, timeoutMs: number): Promise<Verification> {
  const now = () => ports.clock().getTime();
  const deadline = now() + timeoutMs;
  let last = 'not checked';
  // Restart counts of the new pods when first seen: any restart after the change is a failure.
  const firstSeen = new Map<string, number>();
  while (now() < deadline) {
    let report;
    try {
      report = await checkHealth(ports.gateway, key);
    } catch (error) {
      last = `health check failed: ${describe(error)}`;
      await ports.sleep(ports.pollIntervalMs);
      continue;
    }
    last = report.detail;
    if (report.failing) return { ok: false, detail: report.detail };
    for (const [container, count] of Object.entries(report.restarts ?? {})) {
      const seen = firstSeen.get(container);
      if (seen === undefined) firstSeen.set(container, count);
      else if (count > seen)
        return {
          ok: false,
          detail: `${container} restarted ${count - seen} time(s) after the change (${report.detail})`,
        };
    }
    if (report.healthy) {
      // Stay healthy, with no new restarts, for the stability window.
      const settle = Math.min(ports.stabilityMs, Math.max(0, deadline - now()));
      await ports.sleep(settle);
      const again = await checkHealth(ports.gateway, key).catch((error: unknown) => ({
        healthy: false,
        detail: describe(error),
        restarts: undefined,
      }));
      const restarted = Object.entries(again.restarts ?? {}).some(
        ([container, count]) => count > (report.restarts?.[container] ?? count),
      );
      if (again.healthy && !restarted)
        return {
          ok: true,
          detail: `healthy: ${again.detail}, no restarts for ${Math.round(settle / 1000)}s`,
        };
      last = restarted ? 'a container restarted during the stability window' : again.detail;
      if (restarted) return { ok: false, detail: last };
    }
    await ports.sleep(ports.pollIntervalMs);
  }
  return { ok: false, detail: `not healthy within ${Math.round(timeoutMs / 1000)}s: ${last}` };
}
