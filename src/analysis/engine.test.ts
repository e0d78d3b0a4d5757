import { describe, expect, it } from 'vitest';
import type { RemediateInput } from '../domain/index.js';
import { contextFromInput } from '../context/normalize.js';
import type { LiveContext } from '../context/live.js';
import { analyzeWithRules, evaluateRules } from './engine.js';
import { Facts } from './facts.js';

const ip = '10.244.1.9';
const crashingPod = (ready: boolean) => ({
  metadata: {
    name: 'quotes-7d9-x',
    namespace: 'pricing',
    labels: { app: 'quotes', 'pod-template-hash': '7d9' },
    ownerReferences: [{ kind: 'ReplicaSet', name: 'quotes-7d9', controller: true }],
  },
  spec: {
    containers: [
      { name: 'quotes', image: 'quotes:2', readinessProbe: { httpGet: { path: '/ready', port: 8080 } } },
    ],
  },
  status: {
    phase: 'Running',
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', reason: 'ContainersNotReady' }],
    containerStatuses: [
      {
        name: 'quotes',
        ready,
        restartCount: 4,
        state: { waiting: { reason: 'CrashLoopBackOff' } },
        lastState: { terminated: { reason: 'Error', exitCode: 1 } },
      },
    ],
  },
});
const probeEvent = {
  type: 'Warning',
  reason: 'Unhealthy',
  message: `Readiness probe failed: Get "http://${ip}:8080/ready": dial tcp ${ip}:8080: connect: connection refused`,
  involvedObject: {
    kind: 'Pod',
    name: 'quotes-7d9-x',
    namespace: 'pricing',
    fieldPath: 'spec.containers{quotes}',
  },
  count: 12,
};

describe('causes over symptoms', () => {
  it('a readiness probe refused by a container that keeps exiting is the exit’s symptom', () => {
    const input: RemediateInput = {
      issue: 'quotes pods fail their readiness probe',
      context: {
        podSpec: crashingPod(false),
        event: probeEvent,
        logs: ['{"level":"fatal","msg":"config: required setting QUOTES_DB_DSN is not set"}'],
      },
    };
    const facts = new Facts(contextFromInput(input));
    const ranked = evaluateRules(facts);
    expect(ranked[0]?.category).toBe('crash-loop');
    const readiness = ranked.find((f) => f.category === 'readiness-probe-failure');
    expect(readiness?.confidence).toBeGreaterThanOrEqual(ranked[0]!.confidence); // promoted, not re-scored
    expect(ranked[0]?.factors[0]).toMatch(
      /^readiness-probe-failure \(confidence 0\.\d+\) is a symptom of this cause/,
    );
    expect(analyzeWithRules(contextFromInput(input)).analysis.category).toBe('crash-loop');
  });

  it('a probe failure without exits stays the cause', () => {
    const pod = crashingPod(false);
    pod.status.containerStatuses[0] = {
      ...pod.status.containerStatuses[0]!,
      restartCount: 0,
      state: {} as never,
      lastState: {} as never,
    };
    const result = analyzeWithRules(
      contextFromInput({ issue: 'not ready', context: { podSpec: pod, event: probeEvent } }),
    );
    expect(result.analysis.category).toBe('readiness-probe-failure');
  });
});

describe('no access to the namespace', () => {
  it('says first that kubemend cannot read it and what to run, then what the given context shows', () => {
    const live: LiveContext = {
      objects: [],
      pods: [],
      events: [],
      logs: [],
      metrics: {},
      report: {
        partial: true,
        notes: ['get Deployment/mailer: forbidden'],
        apiCalls: 1,
        durationMs: 3,
        denied: [
          {
            namespace: 'mail',
            reads: ['get Deployment/mailer'],
            identity: 'system:serviceaccount:km:kubemend',
          },
        ],
      },
    };
    const { analysis } = analyzeWithRules(
      contextFromInput(
        {
          issue: 'mailer keeps crashing',
          target: { kind: 'Deployment', namespace: 'mail', name: 'mailer' },
          context: { logs: ['FATAL required variable SMTP_HOST is empty'] },
        },
        { live },
      ),
    );
    expect(analysis.category).toBe('crash-loop');
    expect(analysis.rootCause).toMatch(/^kubemend cannot read namespace mail: /);
    expect(analysis.rootCause).toContain(
      'kubectl create rolebinding kubemend -n mail --clusterrole=kubemend-namespaced --serviceaccount=km:kubemend',
    );
    expect(analysis.rootCause).toContain(
      'kubectl auth can-i list pods -n mail --as=system:serviceaccount:km:kubemend',
    );
    expect(analysis.rootCause).toContain('From the context given with the request:');
    expect(analysis.rootCause).toContain('SMTP_HOST');
    expect(analysis.factors[0]).toMatch(/^cannot read namespace mail \(not opted in\)/);
  });
});

describe('Ready now, failing on every request', () => {
  const readyPod = {
    metadata: { name: 'checkout-1', namespace: 'shop', labels: { app: 'checkout' } },
    spec: { containers: [{ name: 'checkout', image: 'checkout:1' }] },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [{ name: 'checkout', ready: true, restartCount: 0, state: { running: {} } }],
    },
  };
  const failure = 'ERROR charge failed: dial tcp: lookup payments.internal on 10.96.0.10:53: no such host';

  it('ongoing failures in the logs outrank Ready', () => {
    const { analysis } = analyzeWithRules(
      contextFromInput({
        issue: 'payments fail',
        context: { podSpec: readyPod, logs: ['listening', failure, failure, failure] },
      }),
    );
    expect(analysis.category).toBe('dependency-failure');
  });

  it('a failure the logs show recovering from is healthy', () => {
    const { analysis } = analyzeWithRules(
      contextFromInput({
        issue: 'payments failed earlier',
        context: {
          podSpec: readyPod,
          logs: ['listening', failure, failure, failure, 'charged order 1', 'charged order 2'],
        },
      }),
    );
    expect(analysis.category).toBe('healthy');
  });
});

describe("a container's last error comes from its own output", () => {
  const ciLogs = [
    '$ kubectl -n shop rollout status deployment/basket --timeout=300s',
    'error: deployment "basket" exceeded its progress deadline',
    'ERROR: Job failed: exit code 1',
  ];
  const pod = (message?: string) => ({
    metadata: { name: 'basket-1', namespace: 'shop' },
    spec: { containers: [{ name: 'basket', image: 'basket:2' }] },
    status: {
      phase: 'Running',
      containerStatuses: [
        {
          name: 'basket',
          ready: false,
          restartCount: 3,
          state: { waiting: { reason: 'CrashLoopBackOff' } },
          lastState: { terminated: { reason: 'Error', exitCode: 1, ...(message ? { message } : {}) } },
        },
      ],
    },
  });

  it('the termination message (the container’s own words) over the caller’s CI output', () => {
    const { analysis } = analyzeWithRules(
      contextFromInput({
        issue: 'deploy failed',
        context: { podSpec: pod("KeyError: 'REDIS_URL'\n"), logs: ciLogs },
      }),
    );
    expect(analysis.rootCause).toContain('REDIS_URL');
    expect(analysis.rootCause).toContain('the previous output of container basket');
    expect(analysis.rootCause).not.toContain('Job failed');
    expect(analysis.evidenceDetail?.find((e) => e.kind === 'log')).toMatchObject({
      logSource: 'container-previous',
      container: 'basket',
      object: 'Pod/shop/basket-1',
    });
  });

  it('only the caller’s logs: never a CI line as the container’s error, and labelled as the caller’s', () => {
    const { analysis } = analyzeWithRules(
      contextFromInput({
        issue: 'deploy failed',
        context: { podSpec: pod(), logs: [...ciLogs, 'panic: nil map'] },
      }),
    );
    expect(analysis.rootCause).toContain(
      'the logs given with the request (not read from the container) show "panic: nil map"',
    );
    expect(analysis.rootCause).not.toContain('Job failed');
  });
});
