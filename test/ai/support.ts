/**
 * Shared fixtures for the AI tests: a realistic crash-looping workload (input and live objects),
 * analyzers pointed at the loopback fixture server, and requests built the way the service builds
 * them (context → rules → request).
 */
import type { RemediateInput } from '../../src/domain/index.js';
import { analyzeWithRules, evaluateRules, type RuleAnalysis } from '../../src/analysis/engine.js';
import type { AiBudget, AiRequest } from '../../src/analysis/ai/port.js';
import { createAiAnalyzer, type ModelAiAnalyzer } from '../../src/analysis/ai/analyzer.js';
import { aiBudgetFrom } from '../../src/analysis/ai/budget.js';
import { loadConfiguration } from '../../src/config/configuration.js';
import type { AiConfiguration } from '../../src/config/ai.js';
import type { ClusterGateway, KubeObject } from '../../src/cluster/gateway.js';
import { contextFromInput } from '../../src/context/normalize.js';
import { type FakeClusterGateway, fakeClusterGateway } from './fake-cluster.js';
import type { FixtureServer, Protocol } from './fixture-server.js';

export const PROTOCOLS: readonly Protocol[] = ['anthropic', 'openai'];
export const NAMESPACE = 'shop';
export const POD = 'checkout-7d9f8b6c5d-x2x4q';
export const REPLICA_SET = 'checkout-7d9f8b6c5d';
export const DEPLOYMENT = 'checkout';
export const FATAL_LINE = 'FATAL config: environment variable PAYMENTS_URL must be set';

export function podManifest(namespace = NAMESPACE): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: POD,
      namespace,
      labels: { app: 'checkout', 'pod-template-hash': '7d9f8b6c5d' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: REPLICA_SET, controller: true }],
    },
    spec: {
      nodeName: 'worker-2',
      containers: [
        {
          name: 'checkout',
          image: 'registry.example.com/shop/checkout:3.4.1',
          env: [{ name: 'LOG_LEVEL', value: 'info' }],
          resources: { limits: { memory: '512Mi', cpu: '500m' }, requests: { memory: '256Mi', cpu: '100m' } },
        },
      ],
    },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady' }],
      containerStatuses: [
        {
          name: 'checkout',
          ready: false,
          restartCount: 7,
          image: 'registry.example.com/shop/checkout:3.4.1',
          state: {
            waiting: {
              reason: 'CrashLoopBackOff',
              message: 'back-off 5m0s restarting failed container=checkout',
            },
          },
          lastState: {
            terminated: {
              reason: 'Error',
              exitCode: 1,
              startedAt: '2026-11-20T10:00:00Z',
              finishedAt: '2026-11-20T10:00:01Z',
            },
          },
        },
      ],
    },
  };
}

export function incidentInput(
  overrides: Partial<RemediateInput> = {},
  namespace = NAMESPACE,
): RemediateInput {
  return {
    issue: 'checkout keeps restarting since the last deploy',
    context: {
      podSpec: podManifest(namespace) as NonNullable<RemediateInput['context']>['podSpec'],
      event: {
        type: 'Warning',
        reason: 'BackOff',
        message: `Back-off restarting failed container checkout in pod ${POD}_${namespace}`,
        count: 31,
        involvedObject: { kind: 'Pod', name: POD, namespace },
        lastTimestamp: '2026-11-20T10:05:00Z',
      },
    },
    ...overrides,
  };
}

export function liveObjects(namespace = NAMESPACE): KubeObject[] {
  return [
    podManifest(namespace),
    {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: REPLICA_SET,
        namespace,
        annotations: { 'deployment.kubernetes.io/revision': '4' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: DEPLOYMENT, controller: true }],
      },
      spec: {
        template: {
          spec: { containers: [{ name: 'checkout', image: 'registry.example.com/shop/checkout:3.4.1' }] },
        },
      },
      status: { replicas: 2, readyReplicas: 0 },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: 'checkout-5c8d7f9b6a',
        namespace,
        annotations: { 'deployment.kubernetes.io/revision': '3' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: DEPLOYMENT, controller: true }],
      },
      spec: {
        template: {
          spec: { containers: [{ name: 'checkout', image: 'registry.example.com/shop/checkout:3.3.9' }] },
        },
      },
      status: { replicas: 0 },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: DEPLOYMENT, namespace, annotations: { 'deployment.kubernetes.io/revision': '4' } },
      spec: {
        replicas: 2,
        template: {
          spec: { containers: [{ name: 'checkout', image: 'registry.example.com/shop/checkout:3.4.1' }] },
        },
      },
      status: { replicas: 2, unavailableReplicas: 2 },
    },
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'checkout-db', namespace },
      type: 'Opaque',
      data: { password: 'aHVudGVyMi1zdXBlci1zZWNyZXQ=' },
    },
  ];
}

export function fakeCluster(namespace = NAMESPACE): FakeClusterGateway {
  return fakeClusterGateway(liveObjects(namespace), {
    [`${namespace}/${POD}/checkout/previous`]: [
      '2026-11-20T10:00:00Z INFO starting checkout 3.4.1',
      '2026-11-20T10:00:00Z INFO loading configuration',
      `2026-11-20T10:00:01Z ${FATAL_LINE}`,
    ].join('\n'),
    [`${namespace}/${POD}/checkout`]: '2026-11-20T10:05:00Z INFO starting checkout 3.4.1',
  });
}

/** `configuration.ai` for an environment (and nothing else: no file, no flags). */
export function aiConfigurationFrom(env: Readonly<Record<string, string>>): AiConfiguration {
  return loadConfiguration({ env }).ai;
}

export interface AnalyzerSetup {
  readonly analyzer: ModelAiAnalyzer;
  readonly budget: AiBudget;
}

/** An analyzer speaking `protocol` to the fixture server, through the real SDK path. */
export function analyzerFor(
  protocol: Protocol,
  fixture: FixtureServer,
  env: Readonly<Record<string, string>> = {},
): AnalyzerSetup {
  const settings = aiConfigurationFrom({
    KUBEMEND_AI_PROVIDER: protocol,
    KUBEMEND_AI_MODEL: 'fixture-model',
    ANTHROPIC_API_KEY: 'sk-ant-test-fixture-key-000000000000',
    ANTHROPIC_BASE_URL: fixture.anthropicBaseUrl,
    OPENAI_API_KEY: 'sk-test-fixture-key-0000000000000000',
    OPENAI_BASE_URL: fixture.openaiBaseUrl,
    KUBEMEND_AI_RETRY_INITIAL_DELAY_MS: '20',
    KUBEMEND_AI_RETRY_MAX_DELAY_MS: '100',
    ...env,
  });
  const analyzer = createAiAnalyzer(settings, { random: () => 1 });
  if (!analyzer) throw new Error(`no analyzer: ${settings.reason ?? ''}`);
  return { analyzer, budget: aiBudgetFrom(settings) };
}

export interface PreparedRequest {
  readonly request: AiRequest;
  readonly rules: RuleAnalysis;
}

export function prepare(input: RemediateInput, budget: AiBudget, cluster?: ClusterGateway): PreparedRequest {
  const context = contextFromInput(input);
  const rules = analyzeWithRules(context);
  return {
    rules,
    request: { context, ruleFindings: evaluateRules(rules.facts), budget, ...(cluster ? { cluster } : {}) },
  };
}
