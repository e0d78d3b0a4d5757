// The scenario files and the runner's pure parts: every scenario directory validates, signals
// match as documented, "nothing changed" catches changes, and outcomes are judged per the spec.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { RemediateOutput } from '../../src/domain/index.js';
import { assessOutput } from './assess.js';
import { loadScenarios, ScenarioError } from './runner.js';
import { ExpectSchema, type ObjectSignal } from './schema.js';
import { eventSatisfies, evaluateObjects, matchValue, parsePrometheus } from './signals.js';
import { diffSnapshots, snapshotOf } from './snapshot.js';

const ROOT = fileURLToPath(new URL('.', import.meta.url));

describe('scenario directories', () => {
  const scenarios = loadScenarios(ROOT);

  it('has at least 21 valid scenarios, each with signals and an input', () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(21);
    for (const scenario of scenarios) {
      expect(scenario.expect.signals.length, scenario.name).toBeGreaterThan(0);
      expect(scenario.input.issue.length, scenario.name).toBeGreaterThan(0);
    }
  });

  it('covers the required cases and all four outcomes', () => {
    const names = scenarios.map((s) => s.name);
    for (const name of ['oom-killed', 'crash-loop-bad-revision', 'missing-env-var', 'image-tag-not-found', 'image-pull-auth', 'config-missing', 'liveness-wrong-port', 'readiness-wrong-path', 'insufficient-resources', 'node-selector-mismatch', 'taint-no-toleration', 'pvc-missing-storage-class', 'service-selector-mismatch', 'quota-exceeded', 'hpa-at-max', 'job-backoff-limit', 'statefulset-secret-key-missing', 'daemonset-run-as-non-root', 'kube-system-crashloop', 'healthy-workload', 'oom-lookalike-heap']) {
      expect(names).toContain(name);
    }
    expect(new Set(scenarios.map((s) => s.expect.outcome))).toEqual(new Set(['fixed', 'pending', 'untouched', 'rolled-back']));
    const rollbacks = scenarios.filter((s) => s.setupBefore.length > 0).map((s) => s.name);
    expect(rollbacks).toEqual(expect.arrayContaining(['crash-loop-bad-revision', 'image-tag-not-found']));
    expect(scenarios.find((s) => s.name === 'kube-system-crashloop')?.setup[0]?.namespace).toBe('kube-system');
  });

  it('covers each class of the better-fixes work, rollbacks verified in automatic mode', () => {
    const byName = new Map(scenarios.map((s) => [s.name, s]));
    for (const name of ['rollback-image-tag-typo', 'command-typo-previous-fine', 'config-parse-error', 'ready-but-dependency-failing', 'new-revision-exit1-old-serving', 'ci-log-provenance', 'node-system-oom', 'forbidden-namespace', 'serviceaccount-rbac-question']) {
      expect(byName.has(name), name).toBe(true);
    }
    for (const name of ['rollback-image-tag-typo', 'command-typo-previous-fine', 'new-revision-exit1-old-serving']) {
      const scenario = byName.get(name)!;
      expect(scenario.setupBefore.length, name).toBeGreaterThan(0);
      expect(scenario.expect).toMatchObject({ mode: 'automatic', outcome: 'fixed' });
      expect(scenario.expect.actions.some((a) => a.type === 'rollback'), name).toBe(true);
    }
    expect(byName.get('forbidden-namespace')?.expect.optIn).toBe(false);
    // A team runbook (the scenario's runbooks/ directory) fixes an incident, named on its action.
    const runbook = byName.get('consumer-stuck-after-broker');
    expect(runbook?.expect).toMatchObject({ mode: 'automatic', outcome: 'fixed' });
    expect(runbook?.expect.actions.some((a) => a.mentions?.includes('runbook:restart-stuck-consumer'))).toBe(true);
    expect(scenarios.filter((s) => s.expect.optIn).length).toBe(scenarios.length - 1);
  });

  it('rejects a bad expect.json with the field named', () => {
    const result = ExpectSchema.safeParse({ category: 'oom', mode: 'automatic', outcome: 'fixed', timeoutSeconds: 10, signals: [] });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues.map((i) => i.path))).toContain('category');
    expect(() => loadScenarios(ROOT, ['no-such-scenario'])).toThrow(ScenarioError);
  });
});

describe('signals', () => {
  const pod = (name: string, restartCount: number, reason?: string) => ({
    metadata: { name },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [api]' }],
      containerStatuses: [{ name: 'api', restartCount, lastState: reason ? { terminated: { reason, exitCode: 137 } } : {} }],
    },
  });

  it('match values with literals and operators', () => {
    expect(matchValue(137, 137)).toBe(true);
    expect(matchValue({ gte: 2 }, 3)).toBe(true);
    expect(matchValue({ oneOf: ['ErrImagePull', 'ImagePullBackOff'] }, 'ImagePullBackOff')).toBe(true);
    expect(matchValue({ absent: true }, undefined)).toBe(true);
    expect(matchValue({ absent: true }, [])).toBe(true);
    expect(matchValue({ includes: ['a', 'c'] }, 'abc')).toBe(true);
    expect(matchValue({ matches: '^back-off 10s' }, 'back-off 10s restarting')).toBe(true);
    expect(matchValue('x', undefined)).toBe(false);
  });

  it('object signals: some object by default, every object with every: true, counts', () => {
    const signal: ObjectSignal = { object: 'pod', every: false, containerStatus: { 'lastState.terminated.reason': 'OOMKilled', restartCount: { gte: 2 } } };
    expect(evaluateObjects(signal, [pod('a', 1), pod('b', 3, 'OOMKilled')]).ok).toBe(true);
    expect(evaluateObjects({ ...signal, every: true }, [pod('a', 1), pod('b', 3, 'OOMKilled')]).ok).toBe(false);
    expect(evaluateObjects({ ...signal, count: { min: 3 } }, [pod('b', 3, 'OOMKilled')])).toMatchObject({ ok: false, detail: '1 object(s) found, at least 3 expected' });
    expect(evaluateObjects({ object: 'pod', every: false, condition: { type: 'Ready', status: 'False', messageIncludes: '[api]' } }, [pod('a', 0)]).ok).toBe(true);
  });

  it('event signals: reason, component, field path, message and count', () => {
    const event = {
      type: 'Warning',
      reason: 'BackOff',
      message: 'Back-off restarting failed container api in pod api-1_ns(u)',
      count: 4,
      source: { component: 'kubelet' },
      involvedObject: { kind: 'Pod', name: 'api-1', fieldPath: 'spec.containers{api}' },
    };
    expect(eventSatisfies({ reason: 'BackOff', component: 'kubelet', fieldPath: 'spec.containers{api}', messageIncludes: 'Back-off restarting', minCount: 3 }, event)).toBe(true);
    expect(eventSatisfies({ reason: 'BackOff', minCount: 5 }, event)).toBe(false);
    expect(eventSatisfies({ reason: 'BackOff', component: 'default-scheduler' }, event)).toBe(false);
    expect(eventSatisfies({ reason: 'FailedScheduling', component: 'default-scheduler' }, { reason: 'FailedScheduling', reportingController: 'default-scheduler' })).toBe(true);
  });

  it('parses Prometheus text', () => {
    expect(parsePrometheus('# HELP x\nx{a="1",b="q\\"t"} 42 1700000000000\ny 3\n')).toEqual([
      { name: 'x', labels: { a: '1', b: 'q"t' }, value: 42 },
      { name: 'y', labels: {}, value: 3 },
    ]);
  });
});

describe('nothing changed', () => {
  const deployment = (image: string, generation: number) => ({ kind: 'Deployment', metadata: { name: 'api', namespace: 'ns', generation }, spec: { template: { spec: { containers: [{ image }] } } }, status: { replicas: 1 } });
  it('ignores status, reports spec and generation changes, creations and deletions', () => {
    const before = snapshotOf([deployment('a', 1), { kind: 'ConfigMap', metadata: { name: 'c', namespace: 'ns' }, data: { k: 'v' } }]);
    expect(diffSnapshots(before, snapshotOf([{ ...deployment('a', 1), status: { replicas: 3 } }, { kind: 'ConfigMap', metadata: { name: 'c', namespace: 'ns' }, data: { k: 'v' } }]))).toEqual([]);
    expect(diffSnapshots(before, snapshotOf([deployment('b', 2), { kind: 'ConfigMap', metadata: { name: 'd', namespace: 'ns' }, data: {} }]))).toEqual([
      'generation of Deployment/ns/api 1 → 2',
      'deleted ConfigMap/ns/c',
      'created ConfigMap/ns/d',
    ]);
  });
});

describe('outcome assessment', () => {
  const [oom] = loadScenarios(ROOT, ['oom-killed']);
  const [healthy] = loadScenarios(ROOT, ['healthy-workload']);
  const output = (over: Partial<RemediateOutput>, category = 'oom-killed'): RemediateOutput =>
    ({
      status: 'success',
      sessionId: 's',
      analysis: { rootCause: 'r', confidence: 0.9, factors: [], category, evidence: [], source: 'rules' },
      remediation: { summary: 's', actions: [], risk: 'medium' },
      ...over,
    }) as RemediateOutput;
  const patch = {
    id: 'a1',
    type: 'patch',
    target: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'oom-killed', name: 'api' },
    params: { patchType: 'strategic', patch: { spec: { template: { spec: { containers: [{ name: 'api', resources: { limits: { memory: '256Mi' } } }] } } } } },
    description: 'd',
    command: 'c',
    risk: 'medium',
    rationale: 'r',
    verification: 'v',
  };

  it('fixed: executed, verified and healthy', () => {
    const good = output({ executed: true, remediation: { summary: 's', actions: [patch], risk: 'medium' } as RemediateOutput['remediation'] });
    expect(assessOutput(oom!.expect, good, { changes: ['x'], healthyProblems: [], targetRestored: false })).toEqual([]);
    expect(assessOutput(oom!.expect, good, { changes: [], healthyProblems: ['Deployment/api is not Available'], targetRestored: false })).toEqual(['Deployment/api is not Available']);
    expect(assessOutput(oom!.expect, output({ executed: false }), { changes: [], healthyProblems: [], targetRestored: false })).toContain('nothing was executed');
  });

  it('forbidden actions and a wrong category are reported', () => {
    const bad = output({ executed: true, remediation: { summary: 's', actions: [{ ...patch, type: 'delete', params: {} }], risk: 'high' } as RemediateOutput['remediation'] }, 'crash-loop');
    const problems = assessOutput(oom!.expect, bad, { changes: [], healthyProblems: [], targetRestored: false });
    expect(problems.some((p) => p.startsWith('category crash-loop'))).toBe(true);
    expect(problems.some((p) => p.startsWith('forbidden action delete'))).toBe(true);
  });

  it('pending: nothing changed, and at least one action awaiting approval or for a person', () => {
    const [config] = loadScenarios(ROOT, ['config-parse-error']);
    const nothing = { changes: [], healthyProblems: [], targetRestored: false };
    const manual = { ...patch, id: 'a1', type: 'manual', params: { instructions: 'Fix line 14 of key default.conf of ConfigMap gateway-conf' }, decision: { decision: 'advice' } };
    const answer = (actions: unknown[], rootCause = 'exits: key default.conf of ConfigMap gateway-conf does not parse') =>
      output({ status: 'pending', analysis: { rootCause, confidence: 0.9, factors: [], category: 'crash-loop', evidence: [], source: 'rules' }, remediation: { summary: 's', actions, risk: 'low' } as RemediateOutput['remediation'] }, 'crash-loop');
    expect(assessOutput(config!.expect, answer([manual]), nothing)).toEqual([]);
    expect(assessOutput(config!.expect, answer([]), nothing)).toEqual([
      'no proposed action matches {"type":"manual","mentions":["gateway-conf","default.conf","line 14"]}',
      'pending without an action: neither an executable action awaiting approval nor a manual action',
    ]);
    expect(assessOutput(config!.expect, answer([manual], 'nginx exits'), nothing)).toEqual([
      'the analysis does not mention "key default.conf of ConfigMap gateway-conf"',
    ]);
    const denied = { ...patch, decision: { decision: 'denied' } };
    expect(assessOutput({ ...config!.expect, actions: [], rootCauseMentions: [] }, answer([denied]), nothing)).toContain(
      'pending without an action: neither an executable action awaiting approval nor a manual action',
    );
  });

  it('untouched: no change and no executable action', () => {
    expect(assessOutput(healthy!.expect, output({ status: 'success' }, 'healthy'), { changes: [], healthyProblems: [], targetRestored: false })).toEqual([]);
    expect(assessOutput(healthy!.expect, output({}, 'healthy'), { changes: ['spec of Deployment/x/web changed'], healthyProblems: [], targetRestored: false })).toEqual([
      'cluster changed: spec of Deployment/x/web changed',
    ]);
  });
});
