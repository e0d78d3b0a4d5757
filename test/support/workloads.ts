/** Small fixtures for execution tests: a Deployment and an action that raises its memory limit. */
import type { KubeObject } from '../../src/cluster/gateway.js';
import type { RemediationAction } from '../../src/domain/index.js';

export const NAMESPACE = 'shop';

export function deployment(name: string, namespace = NAMESPACE): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'main', image: `${name}:1.0` }] },
      },
    },
  };
}

export function memoryPatch(
  id: string,
  name: string,
  memory = '512Mi',
  decision?: RemediationAction['decision'],
): RemediationAction {
  return {
    id,
    type: 'patch',
    target: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: NAMESPACE, name },
    params: {
      patchType: 'strategic',
      patch: {
        spec: { template: { spec: { containers: [{ name: 'main', resources: { limits: { memory } } }] } } },
      },
    },
    description: 'raise the memory limit',
    command: '',
    risk: 'medium',
    rationale: '',
    verification: '',
    ...(decision ? { decision } : {}),
  };
}
