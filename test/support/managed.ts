/**
 * An OOM-killed Deployment as a request carries it (pod, its ReplicaSet, the Deployment), with the
 * labels and annotations a GitOps controller or Helm leaves on the Deployment — for the planner's
 * GitOps tests and the verification window tests.
 */
import { analyzeWithRules } from '../../src/analysis/engine.js';
import { contextFromInput } from '../../src/context/normalize.js';
import type { RemediateInput } from '../../src/domain/index.js';
import { planRemediation } from '../../src/planning/plan.js';
import { type Policy, PolicySchema } from '../../src/planning/policy.js';

export interface Metadata {
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

export interface IncidentShape {
  readonly deployment?: Metadata;
  /** More containers in the pod template (a chart's values key could then mean any of them). */
  readonly sidecar?: boolean;
  /** How long the container ran before its OOM kill, in seconds. */
  readonly ranSeconds?: number;
}

/** The metadata of pod `api-…` of Deployment `shop/api` (through its ReplicaSet). */
export function podMetadata() {
  return {
    name: 'api-5d8f7c9b6d-x2k4q',
    namespace: 'shop',
    labels: { app: 'api', 'pod-template-hash': '5d8f7c9b6d' },
    ownerReferences: [
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'api-5d8f7c9b6d', controller: true },
    ],
  };
}

export function oomIncident(shape: IncidentShape = {}): RemediateInput {
  const ran = shape.ranSeconds ?? 12;
  const started = Date.parse('2026-11-25T11:59:00Z');
  const containers = [
    { name: 'api', image: 'ghcr.io/acme/api:v1.4.0', resources: { limits: { memory: '256Mi' } } },
    ...(shape.sidecar ? [{ name: 'proxy', image: 'envoy:1.30' }] : []),
  ];
  return {
    issue: 'api keeps restarting',
    context: {
      podSpec: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: podMetadata(),
        spec: { containers },
        status: {
          phase: 'Running',
          containerStatuses: [
            {
              name: 'api',
              ready: false,
              restartCount: 4,
              state: { waiting: { reason: 'CrashLoopBackOff' } },
              lastState: {
                terminated: {
                  reason: 'OOMKilled',
                  exitCode: 137,
                  startedAt: new Date(started).toISOString(),
                  finishedAt: new Date(started + ran * 1000).toISOString(),
                },
              },
            },
          ],
        },
      },
      resources: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          metadata: {
            name: 'api-5d8f7c9b6d',
            namespace: 'shop',
            ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'api', controller: true }],
          },
        },
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: {
            name: 'api',
            namespace: 'shop',
            labels: { app: 'api', ...shape.deployment?.labels },
            annotations: { ...shape.deployment?.annotations },
          },
          spec: { replicas: 1, template: { spec: { containers } } },
        },
      ],
    },
  };
}

export function policy(fields: Record<string, unknown> = {}): Policy {
  return PolicySchema.parse(fields);
}

/** The rules' finding and the planner's answer for an incident, in automatic mode. */
export function plan(input: RemediateInput, fields: Record<string, unknown> = {}) {
  const rules = analyzeWithRules(contextFromInput(input));
  return planRemediation({
    finding: rules.finding,
    facts: rules.facts,
    policy: policy(fields),
    requestedMode: 'automatic',
  });
}

export const ARGO = {
  annotations: { 'argocd.argoproj.io/tracking-id': 'shop-prod:apps/Deployment:shop/api' },
};
export const HELM_CHART = {
  labels: {
    'app.kubernetes.io/managed-by': 'Helm',
    'app.kubernetes.io/instance': 'api',
    'helm.sh/chart': 'api-1.8.0',
  },
  annotations: { 'meta.helm.sh/release-name': 'api', 'meta.helm.sh/release-namespace': 'shop' },
};
