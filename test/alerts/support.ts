/** Alertmanager webhook payloads (version 4) for the receiver's tests and the benchmark. */
export interface TestAlert {
  readonly fingerprint: string;
  readonly labels: Record<string, string>;
  readonly annotations?: Record<string, string>;
  readonly status?: 'firing' | 'resolved';
  readonly startsAt?: string;
  readonly endsAt?: string;
}

export function webhookPayload(alerts: readonly TestAlert[], status: 'firing' | 'resolved' = 'firing') {
  return {
    version: '4',
    groupKey: '{}:{alertname="test"}',
    truncatedAlerts: 0,
    status,
    receiver: 'kubemend',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager.invalid',
    alerts: alerts.map((a) => ({
      status: a.status ?? status,
      labels: a.labels,
      annotations: a.annotations ?? {},
      startsAt: a.startsAt ?? '2026-12-01T20:00:00.000Z',
      endsAt: a.endsAt ?? '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus.invalid/graph',
      fingerprint: a.fingerprint,
    })),
  };
}
