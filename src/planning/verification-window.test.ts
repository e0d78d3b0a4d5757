import { describe, expect, it } from 'vitest';
import type { RemediateInput } from '../domain/index.js';
import { oomIncident, plan, podMetadata } from '../../test/support/managed.js';

function windowOf(input: RemediateInput, fields: Record<string, unknown> = {}) {
  return plan(input, fields).remediation.actions[0]?.verificationPlan;
}

/** A Deployment whose readiness probe fails: Unhealthy repeated `count` times over `spanSeconds`. */
function readinessIncident(count: number, spanSeconds: number): RemediateInput {
  const first = Date.parse('2026-11-25T12:00:00Z');
  return {
    issue: 'api never becomes ready',
    context: {
      logs: ['api v1.4.0 listening on :8080', 'registered routes: GET /healthz, GET /ready, GET /v1/orders'],
      podSpec: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: podMetadata(),
        spec: {
          containers: [
            {
              name: 'api',
              image: 'api:1',
              ports: [{ containerPort: 8080 }],
              readinessProbe: {
                httpGet: { path: '/healthcheck', port: 8080 },
                periodSeconds: 5,
                failureThreshold: 3,
              },
            },
          ],
        },
        status: {
          phase: 'Running',
          containerStatuses: [
            { name: 'api', ready: false, restartCount: 0, state: { running: { startedAt: 'x' } } },
          ],
        },
      },
      relatedEvents: [
        {
          type: 'Warning',
          reason: 'Unhealthy',
          message: 'Readiness probe failed: HTTP probe failed with statuscode: 404',
          count,
          firstTimestamp: new Date(first).toISOString(),
          lastTimestamp: new Date(first + spanSeconds * 1000).toISOString(),
          involvedObject: {
            kind: 'Pod',
            name: 'api-5d8f7c9b6d-x2k4q',
            namespace: 'shop',
            fieldPath: 'spec.containers{api}',
          },
        },
      ],
    },
  };
}

describe('the verification window follows the evidence', () => {
  it('a container OOM-killed 12 s after start: each new one must run 2 × 12 s', () => {
    expect(windowOf(oomIncident({ ranSeconds: 12 }))).toMatchObject({
      stabilityMs: 0,
      survivalMs: 24_000,
      basis: [
        expect.stringMatching(
          /container api ended 12 s after it started \(OOMKilled, exit 137; timestamps in whole seconds\): each new container must run 24 s/,
        ),
      ],
    });
  });

  it('a crash within the same second (under a second): longer than it can have run, 1 s', () => {
    expect(windowOf(oomIncident({ ranSeconds: 0 }))?.survivalMs).toBe(1_000);
    expect(windowOf(oomIncident({ ranSeconds: 1 }))?.survivalMs).toBe(2_000);
  });

  it('a failing readiness probe: failureThreshold probes at the cadence the kubelet really kept', () => {
    // 7 failures in 3 s (+1 s of timestamp resolution): one probe every 0.67 s, though the spec says 5 s.
    const window = windowOf(readinessIncident(7, 3));
    expect(window?.stabilityMs).toBe(2_000);
    expect(window?.basis[0]).toMatch(/failureThreshold 3 × 0\.7 s as the kubelet probed \(spec 5 s\)/);
  });

  it('a failing readiness probe with too few repeats to measure: the spec period', () => {
    expect(windowOf(readinessIncident(2, 5))?.stabilityMs).toBe(15_000);
  });

  it('the policy floor and ceiling bound both windows', () => {
    expect(windowOf(oomIncident({ ranSeconds: 12 }), { verifyMinStability: '5s' })?.stabilityMs).toBe(5_000);
    const capped = windowOf(oomIncident({ ranSeconds: 600 }), { verifyMaxStability: '2m' });
    expect(capped?.survivalMs).toBe(120_000);
    expect(capped?.basis.at(-1)).toMatch(/capped at 2m \(the policy's verifyMaxStability\)/);
  });

  it('a policy whose ceiling is below its floor is refused, naming the field', () => {
    expect(() => plan(oomIncident(), { verifyMinStability: '1m', verifyMaxStability: '30s' })).toThrow(
      /verifyMaxStability.*30s is below verifyMinStability \(1m\)/s,
    );
  });
});
