import { describe, expect, it } from 'vitest';
import { loadConfiguration } from '../config/configuration.js';
import { ALERT_MAPPINGS, issueFromAlert } from './mapping.js';
import { AlertmanagerPayloadSchema, type Alert } from './payload.js';
import { routeAlert } from './routing.js';

const alert = (labels: Record<string, string>, annotations: Record<string, string> = {}): Alert => ({
  status: 'firing',
  labels,
  annotations,
  startsAt: '2026-12-01T20:00:00Z',
  fingerprint: 'abc123',
});

describe('alert → issue', () => {
  it.each([
    ['KubePodCrashLooping', { pod: 'web-1' }, { kind: 'Pod', namespace: 'shop', name: 'web-1' }],
    ['KubePodNotReady', { pod: 'web-1' }, { kind: 'Pod', namespace: 'shop', name: 'web-1' }],
    [
      'KubeContainerWaiting',
      { pod: 'web-1', container: 'app' },
      { kind: 'Pod', namespace: 'shop', name: 'web-1' },
    ],
    [
      'KubeDeploymentReplicasMismatch',
      { deployment: 'web' },
      { kind: 'Deployment', namespace: 'shop', name: 'web' },
    ],
    [
      'KubeDeploymentRolloutStuck',
      { deployment: 'web' },
      { kind: 'Deployment', namespace: 'shop', name: 'web' },
    ],
    [
      'KubeStatefulSetReplicasMismatch',
      { statefulset: 'db' },
      { kind: 'StatefulSet', namespace: 'shop', name: 'db' },
    ],
    [
      'KubeDaemonSetRolloutStuck',
      { daemonset: 'agent' },
      { kind: 'DaemonSet', namespace: 'shop', name: 'agent' },
    ],
    ['KubeJobFailed', { job_name: 'nightly' }, { kind: 'Job', namespace: 'shop', name: 'nightly' }],
    [
      'KubeHpaMaxedOut',
      { horizontalpodautoscaler: 'web' },
      { kind: 'HorizontalPodAutoscaler', namespace: 'shop', name: 'web' },
    ],
    [
      'KubePersistentVolumeFillingUp',
      { persistentvolumeclaim: 'data' },
      { kind: 'PersistentVolumeClaim', namespace: 'shop', name: 'data' },
    ],
    ['KubeQuotaExceeded', { resourcequota: 'q' }, undefined],
    [
      'CPUThrottlingHigh',
      { pod: 'web-1', container: 'app' },
      { kind: 'Pod', namespace: 'shop', name: 'web-1' },
    ],
    ['KubeNodeNotReady', { node: 'worker-2' }, { kind: 'Node', name: 'worker-2' }],
  ])('%s names its target from the labels', (alertname, labels, target) => {
    expect(ALERT_MAPPINGS[alertname]).toBeDefined();
    const issue = issueFromAlert(
      alert({ alertname, namespace: 'shop', ...labels }, { summary: 'S', description: 'D' }),
    );
    expect(issue.target).toEqual(target);
    expect(issue.issue).toContain(`Alert ${alertname}: S. D. ${ALERT_MAPPINGS[alertname]!.hint}`);
    expect(issue.issue).toContain('namespace shop');
  });

  it('maps an alert it does not know as a plain issue, the target from the best label', () => {
    const issue = issueFromAlert(
      alert(
        { alertname: 'PaymentsSlow', namespace: 'pay', deployment: 'api', node: 'n1' },
        { summary: 'p99 high' },
      ),
    );
    expect(issue).toEqual({
      issue: 'Alert PaymentsSlow: p99 high. (namespace pay, deployment api, node n1)',
      target: { kind: 'Deployment', namespace: 'pay', name: 'api' },
    });
    expect(issueFromAlert(alert({ alertname: 'Watchdog' }))).toEqual({ issue: 'Alert Watchdog' });
  });

  it('needs a namespace for a namespaced target', () => {
    expect(issueFromAlert(alert({ alertname: 'KubePodCrashLooping', pod: 'x' })).target).toBeUndefined();
  });
});

describe('routing', () => {
  const section = (routes: unknown) =>
    loadConfiguration({ env: {}, flags: { alerts: { routes, default: { mode: 'manual' } } } as never })
      .alerts;

  it('takes the first route whose labels all match, else the default', () => {
    const alerts = section([
      { match: { severity: 'critical', namespace: 'prod' }, mode: 'hybrid', policy: 'prod' },
      { matchRe: { namespace: 'dev|staging' }, mode: 'automatic' },
      { matchRe: { namespace: 'st.*' }, mode: 'hybrid' },
    ]);
    expect(routeAlert(alerts, { severity: 'critical', namespace: 'prod' })).toEqual({
      mode: 'hybrid',
      policy: 'prod',
      route: 0,
    });
    expect(routeAlert(alerts, { namespace: 'staging' })).toEqual({ mode: 'automatic', route: 1 });
    // Anchored like Alertmanager: `dev|staging` does not match `devops`; `st.*` matches `stable`.
    expect(routeAlert(alerts, { namespace: 'devops' })).toEqual({ mode: 'manual' });
    expect(routeAlert(alerts, { namespace: 'stable' })).toEqual({ mode: 'hybrid', route: 2 });
    expect(routeAlert(alerts, { severity: 'critical' })).toEqual({ mode: 'manual' });
  });

  it('names an unknown key and a bad regular expression in the configuration', () => {
    expect(() => section([{ match: {}, mode: 'automatic', bogus: 1 }])).toThrow(
      /unknown configuration key alerts\.routes\[0\]\.bogus/,
    );
    expect(() => section([{ matchRe: { namespace: '(' } }])).toThrow(
      /alerts\.routes\[0\]\.matchRe\.namespace.*regular expression/,
    );
    expect(() => section([{ mode: 'sometimes' }])).toThrow(/alerts\.routes\[0\]\.mode/);
  });
});

describe('the payload', () => {
  it('names the field that is wrong', () => {
    const result = AlertmanagerPayloadSchema.safeParse({
      version: '4',
      status: 'firing',
      receiver: 'kubemend',
      alerts: [{ status: 'firing', labels: { alertname: 'X' }, startsAt: 'yesterday', fingerprint: 'f' }],
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual(['alerts.0.startsAt']);
  });
});
