// A consumer Deployment stuck after its broker came back (dependency-failure, confidence 0.8, Running
// and Ready): the incident of the runbook and learning unit tests, analysed by the real rules.
import { analyzeWithRules } from '../../src/analysis/engine.js';
import { contextFromInput } from '../../src/context/normalize.js';
import type { RemediateInput } from '../../src/domain/index.js';

const HALTED =
  '2026-01-01T00:03:01Z ERROR consumer loop halted after 5 failed reconnects to kafka.shop.svc:9092 (connection refused); not retrying';

/** The incident as a request. */
export function consumerInput(
  logs: string[] = [],
  labels: Record<string, string> = { app: 'consumer' },
): RemediateInput {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'consumer-7d9f8c6b5-abcde',
      namespace: 'shop',
      labels: { ...labels, 'pod-template-hash': '7d9f8c6b5' },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'consumer-7d9f8c6b5',
          uid: 'u1',
          controller: true,
        },
      ],
    },
    spec: { containers: [{ name: 'consumer', image: 'acme/consumer:1' }] },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [
        {
          name: 'consumer',
          ready: true,
          restartCount: 0,
          state: { running: { startedAt: '2026-01-01T00:00:00Z' } },
        },
      ],
    },
  };
  return {
    issue: 'orders are not processed since the broker came back',
    context: {
      podSpec: pod,
      logs: [
        '2026-01-01T00:01:00Z ERROR fetch failed: dial tcp kafka.shop.svc:9092: connect: connection refused',
        '2026-01-01T00:02:00Z ERROR fetch failed: dial tcp kafka.shop.svc:9092: connect: connection refused',
        '2026-01-01T00:03:00Z INFO  broker kafka.shop.svc:9092 is reachable again',
        HALTED,
        ...logs,
      ],
    },
  };
}

/** The incident analysed by the real rules (finding and facts). */
export function consumerIncident(logs: string[] = [], labels: Record<string, string> = { app: 'consumer' }) {
  return analyzeWithRules(contextFromInput(consumerInput(logs, labels), {}));
}
