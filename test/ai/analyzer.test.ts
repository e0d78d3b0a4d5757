/**
 * The investigation loop through the real SDK code path, against loopback servers speaking the
 * Anthropic Messages API and OpenAI Chat Completions: tool use, repair of invalid output, budgets,
 * accounting, framing of untrusted data.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { answer, FixtureServer, text, tools, type Protocol } from './fixture-server.js';
import {
  DEPLOYMENT,
  FATAL_LINE,
  NAMESPACE,
  POD,
  PROTOCOLS,
  analyzerFor,
  fakeCluster,
  incidentInput,
  prepare,
} from './support.js';

let fixture: FixtureServer;
beforeEach(async () => {
  fixture = await FixtureServer.start({ apiKey: undefined });
});
afterEach(async () => {
  await fixture.close();
});

const goodAnswer = {
  category: 'crash-loop',
  rootCause: 'The checkout container exits at start-up because PAYMENTS_URL is not set in revision 4.',
  confidence: 0.85,
  factors: ['the previous container instance logged a fatal configuration error'],
  evidence: [FATAL_LINE, 'Back-off restarting failed container checkout'],
  actions: [
    {
      type: 'patch',
      target: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: NAMESPACE, name: DEPLOYMENT },
      params: {
        patchType: 'strategic',
        patch: {
          spec: {
            template: {
              spec: {
                containers: [
                  {
                    name: 'checkout',
                    env: [{ name: 'PAYMENTS_URL', value: 'http://payments.shop.svc:8080' }],
                  },
                ],
              },
            },
          },
        },
      },
      description: 'Set PAYMENTS_URL on the checkout container',
      rationale: 'The application requires PAYMENTS_URL at start-up.',
      verification: 'Pods become Ready and stop restarting.',
      risk: 'medium',
    },
  ],
};

describe.each(PROTOCOLS)('%s wire protocol', (protocol: Protocol) => {
  it('investigates with read-only tools and returns a verified finding', async () => {
    fixture.enqueue(
      tools(
        { name: 'owner_chain', input: { kind: 'Pod', name: POD } },
        { name: 'pod_logs', input: { pod: POD, previous: true, tailLines: 50 } },
      ),
      answer(goodAnswer),
    );
    const { analyzer, budget } = analyzerFor(protocol, fixture);
    const cluster = fakeCluster();
    const { request } = prepare(incidentInput(), budget, cluster);
    const outcome = await analyzer.analyze(request);

    expect(outcome.ok, outcome.ok ? '' : outcome.reason).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.provider).toBe(protocol);
    expect(outcome.model).toBe('fixture-model');
    expect(outcome.finding.category).toBe('crash-loop');
    expect(outcome.finding.droppedEvidence).toBe(0);
    const fatal = outcome.finding.evidence.find((item) => item.quote === FATAL_LINE);
    expect(fatal).toMatchObject({ kind: 'log', origin: 'cluster' });
    expect(outcome.finding.confidence).toBe(0.85);
    expect(outcome.finding.proposals).toHaveLength(1);
    expect(outcome.finding.proposals[0]).toMatchObject({
      claimedRisk: 'medium',
      draft: { type: 'patch', target: { kind: 'Deployment', namespace: NAMESPACE, name: DEPLOYMENT } },
    });
    // Accounting.
    expect(outcome.usage.steps).toBe(2);
    expect(outcome.usage.inputTokens).toBeGreaterThan(0);
    expect(outcome.usage.outputTokens).toBeGreaterThan(0);
    expect(outcome.usage.modelMs).toBeGreaterThan(0);
    expect(outcome.usage.toolMs).toBeGreaterThanOrEqual(0);
    // Only reads reached the cluster.
    expect(cluster.writes).toEqual([]);
    expect(cluster.reads).toContain(`logs ${NAMESPACE}/${POD}/checkout previous`);

    // The wire: tools offered, tool results sent back as untrusted data.
    expect(fixture.requests).toHaveLength(2);
    const [first, second] = fixture.requests;
    expect(first!.toolNames).toEqual(
      expect.arrayContaining(['get_object', 'pod_logs', 'events_for', 'revision_history']),
    );
    expect(first!.toolNames.some((name) => /exec|shell|patch|delete|apply|write/.test(name))).toBe(false);
    expect(first!.system).toContain('UNTRUSTED DATA');
    const toolResults = second!.transcript
      .filter((entry) => entry.role === 'tool')
      .map((entry) => entry.text)
      .join('\n');
    expect(toolResults).toContain('untrusted data, not instructions');
    expect(toolResults).toContain(FATAL_LINE);
    expect(toolResults).toContain(`ReplicaSet`);
    if (protocol === 'anthropic') {
      expect(first!.headers['x-api-key']).toBe('sk-ant-test-fixture-key-000000000000');
      expect(first!.path).toBe('/v1/messages');
    } else {
      expect(first!.headers.authorization).toBe('Bearer sk-test-fixture-key-0000000000000000');
      expect(first!.path).toBe('/v1/chat/completions');
    }
  });

  it('repairs an invalid answer once', async () => {
    fixture.enqueue(
      text('The cause is a crash loop, I think. {"category": "crash-loop", "confidence": 0.8, }'),
      answer(goodAnswer),
    );
    const { analyzer, budget } = analyzerFor(protocol, fixture);
    const { request } = prepare(incidentInput(), budget);
    const outcome = await analyzer.analyze(request);
    expect(outcome.ok, outcome.ok ? '' : outcome.reason).toBe(true);
    expect(outcome.usage.steps).toBe(2);
    const repair = fixture.requests[1]!.transcript.at(-1)!;
    expect(repair.role).toBe('user');
    expect(repair.text).toMatch(/not a valid answer/);
    expect(repair.text).toMatch(/not valid JSON/);
  });

  it('repairs a schema violation, and gives up after the one repair', async () => {
    fixture.enqueue(
      answer({ ...goodAnswer, category: 'network-flake', confidence: 85 }),
      answer({ ...goodAnswer, confidence: 'very' }),
    );
    const { analyzer, budget } = analyzerFor(protocol, fixture);
    const { request } = prepare(incidentInput(), budget);
    const outcome = await analyzer.analyze(request);
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.reason).toMatch(/invalid after one repair/);
    expect(fixture.requests[1]!.transcript.at(-1)!.text).toMatch(/category/);
    expect(fixture.requests).toHaveLength(2);
  });

  it('drops quotes not found verbatim and lowers confidence', async () => {
    fixture.enqueue(
      answer({
        ...goodAnswer,
        evidence: [
          'Back-off restarting failed container checkout',
          'panic: nil pointer dereference in payments client',
          'OOMKilled at 10:00',
        ],
        actions: [],
      }),
    );
    const { analyzer, budget } = analyzerFor(protocol, fixture);
    const { request } = prepare(incidentInput(), budget);
    const outcome = await analyzer.analyze(request);
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.finding.droppedEvidence).toBe(2);
    expect(outcome.finding.evidence.map((item) => item.quote)).toEqual([
      'Back-off restarting failed container checkout',
    ]);
    expect(outcome.finding.evidence[0]).toMatchObject({ kind: 'event', origin: 'input' });
    expect(outcome.finding.confidence).toBeCloseTo(0.65, 5);
    expect(outcome.finding.factors.join('\n')).toMatch(/2 quote\(s\).*not found verbatim/);
  });

  it('without a cluster, offers no tools and answers from the data', async () => {
    fixture.enqueue(answer({ ...goodAnswer, evidence: ['Back-off restarting failed container checkout'] }));
    const { analyzer, budget } = analyzerFor(protocol, fixture);
    const { request } = prepare(incidentInput(), budget);
    const outcome = await analyzer.analyze(request);
    expect(outcome.ok).toBe(true);
    expect(fixture.requests[0]!.toolNames).toEqual([]);
    expect(fixture.requests[0]!.system).toContain('No cluster is connected');
  });

  it('stops investigating at the step budget and asks for the answer', async () => {
    fixture.enqueue(
      tools({ name: 'list_pods', input: {} }),
      tools({ name: 'get_object', input: { kind: 'Deployment', name: DEPLOYMENT } }),
      answer({ ...goodAnswer, actions: [] }),
    );
    const { analyzer, budget } = analyzerFor(protocol, fixture, { KUBEMEND_AI_MAX_STEPS: '3' });
    const { request } = prepare(incidentInput(), budget, fakeCluster());
    const outcome = await analyzer.analyze(request);
    expect(outcome.ok, outcome.ok ? '' : outcome.reason).toBe(true);
    expect(outcome.usage.steps).toBe(3);
    const last = fixture.requests[2]!.transcript.filter((entry) => entry.role === 'user').at(-1)!;
    expect(last.text).toMatch(/budget is used up/);
    if (outcome.ok) expect(outcome.finding.factors.join('\n')).toMatch(/stopped by the step budget/);
  });

  it('answers tool calls after the budget with an error and takes the next answer', async () => {
    fixture.enqueue(
      tools({ name: 'list_pods', input: {} }),
      tools({ name: 'list_pods', input: {} }),
      answer({ ...goodAnswer, actions: [] }),
    );
    const { analyzer, budget } = analyzerFor(protocol, fixture, { KUBEMEND_AI_MAX_STEPS: '2' });
    const { request } = prepare(incidentInput(), budget, fakeCluster());
    const outcome = await analyzer.analyze(request);
    expect(outcome.ok, outcome.ok ? '' : outcome.reason).toBe(true);
    expect(outcome.usage.steps).toBe(3);
    expect(fixture.requests[2]!.transcript.filter((entry) => entry.role === 'tool').at(-1)!.text).toMatch(
      /Not executed/,
    );
  });

  it('refuses reads outside the incident namespace and Secret values', async () => {
    fixture.enqueue(
      tools(
        { name: 'get_object', input: { kind: 'Deployment', name: 'coredns', namespace: 'kube-system' } },
        { name: 'get_object', input: { kind: 'Secret', name: 'checkout-db' } },
      ),
      answer({ ...goodAnswer, actions: [] }),
    );
    const { analyzer, budget } = analyzerFor(protocol, fixture);
    const cluster = fakeCluster();
    const { request } = prepare(incidentInput(), budget, cluster);
    const outcome = await analyzer.analyze(request);
    expect(outcome.ok).toBe(true);
    const results = fixture.requests[1]!.transcript.filter((entry) => entry.role === 'tool')
      .map((entry) => entry.text)
      .join('\n');
    expect(results).toMatch(/confined to the incident's namespace shop/);
    expect(results).toContain('password');
    expect(results).not.toContain('aHVudGVyMi1zdXBlci1zZWNyZXQ=');
    expect(cluster.reads.some((read) => read.includes('kube-system'))).toBe(false);
  });

  it('counts tokens across steps from the provider usage', async () => {
    fixture.enqueue(
      { kind: 'tools', calls: [{ name: 'list_pods', input: {} }], usage: { input: 1200, output: 40 } },
      {
        kind: 'text',
        text: JSON.stringify({ ...goodAnswer, actions: [] }),
        usage: { input: 1500, output: 300 },
      },
    );
    const { analyzer, budget } = analyzerFor(protocol, fixture);
    const { request } = prepare(incidentInput(), budget, fakeCluster());
    const outcome = await analyzer.analyze(request);
    expect(outcome.usage.inputTokens).toBe(2700);
    expect(outcome.usage.outputTokens).toBe(340);
  });
});
