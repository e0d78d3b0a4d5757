import { describe, expect, it } from 'vitest';
import { consumerIncident as incident } from '../../test/support/consumer-incident.js';
import type { RemediationAction } from '../domain/index.js';
import { planRemediation } from './plan.js';
import { builtInPolicies } from './policy.js';
import { type Runbook, type RunbookInput, RunbookSchema } from '../runbooks/schema.js';

const policy = builtInPolicies().default!;

const runbook = (overrides: Partial<RunbookInput> = {}): Runbook =>
  RunbookSchema.parse({
    name: 'restart-stuck-consumer',
    match: {
      category: 'dependency-failure',
      labels: { app: 'consumer' },
      logPattern: 'consumer loop halted after \\d+ failed reconnects to (?<broker>\\S+):\\d+',
    },
    actions: [
      {
        type: 'restart',
        target: { kind: 'Deployment', name: '{{ target.name }}' },
        description: 'Restart {{ target.name }}: broker {{ match.broker }} is back',
      },
    ],
    ...overrides,
  });

function plan(runbooks: Runbook[], logs: string[] = [], labels?: Record<string, string>) {
  const rules = incident(logs, labels);
  return planRemediation({
    finding: rules.finding,
    facts: rules.facts,
    policy,
    requestedMode: 'automatic',
    runbooks,
  });
}

const fromRunbook = (actions: readonly RemediationAction[]) => actions.filter((a) => a.source !== undefined);

describe('runbooks in the plan', () => {
  it('a matching runbook adds its typed action, named as its source, decided by the same policy', () => {
    const result = plan([runbook()]);
    const [restart] = fromRunbook(result.remediation.actions);
    expect(restart).toMatchObject({
      type: 'restart',
      source: 'runbook:restart-stuck-consumer',
      target: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'consumer' },
      description: 'Restart consumer: broker kafka.shop.svc is back',
      risk: 'low',
      decision: { decision: 'execute' },
    });
    expect(result.notes.join('\n')).toContain(
      'runbook restart-stuck-consumer matched: category dependency-failure',
    );
    // The built-in advice is still there, first.
    expect(result.remediation.actions[0]?.type).toBe('manual');
  });

  it('does not apply when the category, labels or pattern do not match', () => {
    expect(fromRunbook(plan([runbook()], [], { app: 'billing' }).remediation.actions)).toEqual([]);
    expect(fromRunbook(plan([runbook({ match: { category: 'oom-killed' } })]).remediation.actions)).toEqual(
      [],
    );
    expect(
      fromRunbook(
        plan([runbook({ match: { category: 'dependency-failure', logPattern: 'never printed' } })])
          .remediation.actions,
      ),
    ).toEqual([]);
    expect(
      fromRunbook(
        plan([runbook({ match: { category: 'dependency-failure', namespaces: ['team-*'] } })]).remediation
          .actions,
      ),
    ).toEqual([]);
  });

  it("minRisk raises the action's risk and so its decision; it never lowers kubemend's rating", () => {
    const raised = fromRunbook(plan([runbook({ minRisk: 'high' })]).remediation.actions)[0];
    expect(raised).toMatchObject({ risk: 'high', decision: { decision: 'await-approval' } });
    const scale = runbook({
      minRisk: 'low',
      actions: [
        {
          type: 'scale',
          target: { kind: 'Deployment', name: 'worker' },
          params: { replicas: 3 },
          description: 'x',
        },
      ],
    });
    expect(fromRunbook(plan([scale]).remediation.actions)[0]).toMatchObject({
      type: 'scale',
      risk: 'medium',
    });
    // Scaling to zero is refused when the runbook is loaded.
    expect(
      RunbookSchema.safeParse({ ...scale, actions: [{ ...scale.actions[0], params: { replicas: 0 } }] })
        .success,
    ).toBe(false);
  });

  it('fills a whole-value placeholder with a typed number and the schema re-validates it', () => {
    const scale = runbook({
      match: { category: 'dependency-failure', logPattern: 'halted after (?<count>\\d+) failed' },
      actions: [
        {
          type: 'scale',
          target: { kind: 'Deployment', name: 'worker' },
          params: { replicas: '{{ match.count }}' },
          description: 'Scale worker',
        },
      ],
    });
    const [action] = fromRunbook(plan([scale]).remediation.actions);
    expect(action).toMatchObject({
      type: 'scale',
      params: { replicas: 5 },
      target: { name: 'worker', namespace: 'shop' },
    });
  });

  it('an action already proposed is not added twice: the earlier one stands', () => {
    const twice = [runbook(), runbook({ name: 'second' })];
    const result = plan(twice);
    expect(fromRunbook(result.remediation.actions).map((a) => a.source)).toEqual([
      'runbook:restart-stuck-consumer',
    ]);
    expect(result.notes.join('\n')).toContain(
      'runbook second: restart Deployment/shop/consumer is already proposed',
    );
  });

  it('a malicious log line cannot inject a different target, namespace or patch', () => {
    const greedy = runbook({
      match: { category: 'dependency-failure', logPattern: 'INJECT name=(?<name>.+)$' },
      actions: [
        {
          type: 'restart',
          target: { kind: 'Deployment', name: '{{ match.name }}' },
          description: 'Restart {{ match.name }}',
        },
        {
          type: 'patch',
          target: { kind: 'Deployment', name: '{{ target.name }}' },
          params: {
            patch: {
              spec: { template: { metadata: { annotations: { 'acme.io/broker': '{{ match.name }}' } } } },
            },
          },
          description: 'Annotate',
        },
      ],
    });
    const attack =
      'INJECT name=consumer","namespace":"kube-system"},"params":{"patch":{"spec":{"template":{"spec":{"hostNetwork":true}}}}}';
    const result = plan([greedy], [attack]);
    expect(fromRunbook(result.remediation.actions)).toEqual([]);
    const notes = result.notes.join('\n');
    expect(notes).toContain('action 1 (restart) left out: {{ match.name }} captured');
    expect(notes).toContain('action 2 (patch) left out');
    expect(JSON.stringify(result.remediation.actions)).not.toContain('kube-system');
    expect(JSON.stringify(result.remediation.actions)).not.toContain('hostNetwork');
  });

  it('a plain-looking capture naming a protected namespace still meets the guards and policy', () => {
    const nsFromLog = runbook({
      match: { category: 'dependency-failure', logPattern: 'INJECT ns=(?<ns>\\S+)' },
      actions: [
        {
          type: 'restart',
          target: { kind: 'Deployment', namespace: '{{ match.ns }}', name: 'coredns' },
          description: 'Restart coredns',
        },
      ],
    });
    const [action] = fromRunbook(plan([nsFromLog], ['INJECT ns=kube-system']).remediation.actions);
    // Rewritten to advice for a person: kubemend never changes a protected namespace.
    expect(action).toMatchObject({ type: 'manual', decision: { decision: 'advice' } });
  });

  it('the same finding and runbooks give the same plan', () => {
    expect(plan([runbook()]).remediation).toEqual(plan([runbook()]).remediation);
  });
});

describe('the runbook schema', () => {
  const issues = (value: unknown) =>
    RunbookSchema.safeParse(value).error?.issues.map(
      (issue) => `${issue.path.join('.')}: ${issue.message}`,
    ) ?? [];

  it('names unknown keys, bad patterns, unknown placeholders and forbidden kinds', () => {
    const problems = issues({
      name: 'bad',
      match: { category: 'dependency-failure', logPattern: '(unclosed', colour: 'red' },
      actions: [
        {
          type: 'restart',
          target: { kind: 'ClusterRoleBinding', name: 'x' },
          description: '{{ process.env.HOME }}',
        },
        { type: 'delete', target: { kind: 'Deployment', name: 'x' }, description: 'x' },
      ],
    });
    expect(problems.join('\n')).toMatch(/match: Unrecognized key: "colour"/);
    expect(problems.join('\n')).toMatch(/match.logPattern: not a regular expression/);
    expect(problems.join('\n')).toMatch(/actions.0.target.kind: runbooks may not change cluster-scoped/);
    expect(problems.join('\n')).toMatch(
      /actions.0.description: unknown placeholder \{\{ process.env.HOME \}\}/,
    );
    expect(problems.join('\n')).toMatch(/actions.1.type/);
  });
});
