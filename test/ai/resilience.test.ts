/**
 * Provider trouble through the real SDK path: a model that never answers, per-call timeouts,
 * 429 storms (backoff honouring retry-after, then the circuit opens and later calls fail fast, then
 * recovers), 5xx, malformed bodies. None of it throws: the outcome is `{ ok: false, reason }`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { answer, failure, FixtureServer, hang, type Protocol } from './fixture-server.js';
import { PROTOCOLS, analyzerFor, incidentInput, prepare } from './support.js';

let fixture: FixtureServer;
beforeEach(async () => {
  fixture = await FixtureServer.start();
});
afterEach(async () => {
  await fixture.close();
});

const valid = {
  category: 'crash-loop',
  rootCause: 'The container exits on its own.',
  confidence: 0.7,
  evidence: ['Back-off restarting failed container checkout'],
  actions: [],
};

describe.each(PROTOCOLS)('%s', (protocol: Protocol) => {
  it('a model that never answers: ok:false within the budget', async () => {
    fixture.enqueue(hang(), hang(), hang());
    const { analyzer, budget } = analyzerFor(protocol, fixture, {
      KUBEMEND_AI_TIMEOUT_MS: '800',
      KUBEMEND_AI_CALL_TIMEOUT_MS: '5000',
    });
    const { request } = prepare(incidentInput(), budget);
    const started = Date.now();
    const outcome = await analyzer.analyze(request);
    const elapsed = Date.now() - started;
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.reason).toMatch(/timed out after 800 ms/);
    expect(elapsed).toBeGreaterThanOrEqual(700);
    expect(elapsed).toBeLessThan(1_200);
    expect(outcome.usage.steps).toBe(0);
  });

  it('a call that exceeds the per-call timeout is retried within the budget', async () => {
    fixture.enqueue(hang(), answer(valid));
    const { analyzer, budget } = analyzerFor(protocol, fixture, {
      KUBEMEND_AI_TIMEOUT_MS: '4000',
      KUBEMEND_AI_CALL_TIMEOUT_MS: '600',
    });
    const { request } = prepare(incidentInput(), budget);
    const started = Date.now();
    const outcome = await analyzer.analyze(request);
    expect(outcome.ok, outcome.ok ? '' : outcome.reason).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    expect(fixture.requests).toHaveLength(2);
  });

  it('when time runs out during the repair, the best answer so far wins', async () => {
    const oneMalformedAction = {
      ...valid,
      actions: [
        {
          type: 'scale',
          target: { kind: 'Deployment', name: 'checkout' },
          params: { replicas: 'three' },
          description: 'scale up',
        },
      ],
    };
    fixture.enqueue(answer(oneMalformedAction), hang(), hang(), hang());
    const { analyzer, budget } = analyzerFor(protocol, fixture, { KUBEMEND_AI_TIMEOUT_MS: '1000' });
    const { request } = prepare(incidentInput(), budget);
    const outcome = await analyzer.analyze(request);
    expect(outcome.ok, outcome.ok ? '' : outcome.reason).toBe(true);
    if (!outcome.ok) return;
    expect(outcome.finding.category).toBe('crash-loop');
    expect(outcome.finding.proposals).toEqual([]);
    expect(outcome.finding.factors.join('\n')).toMatch(/1 malformed action/);
  });

  it('a 5xx is retried and then answered', async () => {
    fixture.enqueue(failure(protocol === 'anthropic' ? 529 : 503), answer(valid));
    const { analyzer, budget } = analyzerFor(protocol, fixture);
    const { request } = prepare(incidentInput(), budget);
    const outcome = await analyzer.analyze(request);
    expect(outcome.ok, outcome.ok ? '' : outcome.reason).toBe(true);
    expect(fixture.requests).toHaveLength(2);
  });

  it('a 400 is not retried', async () => {
    fixture.enqueue(failure(400), answer(valid));
    const { analyzer, budget } = analyzerFor(protocol, fixture);
    const { request } = prepare(incidentInput(), budget);
    const outcome = await analyzer.analyze(request);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.reason).toMatch(/HTTP 400/);
    expect(fixture.requests).toHaveLength(1);
  });

  it('a malformed provider body is an outcome, not an exception', async () => {
    fixture.enqueue({ kind: 'raw', status: 200, body: '{"unexpected": true}' });
    const { analyzer, budget } = analyzerFor(protocol, fixture);
    const { request } = prepare(incidentInput(), budget);
    const outcome = await analyzer.analyze(request);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.reason).toMatch(/could not be used|invalid/i);
  });

  it('429 storm: backoff honours retry-after, the circuit opens, later calls fail fast, then it recovers', async () => {
    const limited = () => failure(429, { 'retry-after': '1' });
    fixture.enqueue(limited(), limited(), limited());
    const { analyzer, budget } = analyzerFor(protocol, fixture, {
      KUBEMEND_AI_MAX_RETRIES: '2',
      KUBEMEND_AI_BREAKER_FAILURES: '3',
      KUBEMEND_AI_BREAKER_HALF_OPEN_MS: '1500',
      KUBEMEND_AI_TIMEOUT_MS: '6000',
    });
    const { request } = prepare(incidentInput(), budget);

    const first = await analyzer.analyze(request);
    expect(first.ok).toBe(false);
    if (!first.ok) expect(first.reason).toMatch(/HTTP 429.*after 3 attempts/);
    expect(fixture.requests).toHaveLength(3);
    const gaps = fixture.requests
      .slice(1)
      .map((entry, index) => entry.receivedAt - fixture.requests[index]!.receivedAt);
    // Our own backoff would wait ~20-40 ms; the server asked for 1 s.
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(950);
    expect(analyzer.circuit).toBe('open');

    const started = Date.now();
    const second = await analyzer.analyze(request);
    expect(Date.now() - started).toBeLessThan(150);
    expect(second.ok).toBe(false);
    if (!second.ok) expect(second.reason).toMatch(/circuit open/);
    expect(fixture.requests).toHaveLength(3);

    await new Promise((resolve) => setTimeout(resolve, 1_600));
    fixture.enqueue(answer(valid));
    const third = await analyzer.analyze(request);
    expect(third.ok, third.ok ? '' : third.reason).toBe(true);
    expect(analyzer.circuit).toBe('closed');
  }, 15_000);

  it('a retry-after longer than the remaining budget ends the call at once', async () => {
    fixture.enqueue(failure(429, { 'retry-after': '30' }), answer(valid));
    const { analyzer, budget } = analyzerFor(protocol, fixture, { KUBEMEND_AI_TIMEOUT_MS: '3000' });
    const { request } = prepare(incidentInput(), budget);
    const started = Date.now();
    const outcome = await analyzer.analyze(request);
    expect(Date.now() - started).toBeLessThan(500);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.reason).toMatch(/HTTP 429/);
    expect(fixture.requests).toHaveLength(1);
  });

  it('an aborted request signal ends the analysis', async () => {
    fixture.enqueue(hang());
    const { analyzer, budget } = analyzerFor(protocol, fixture);
    const { request } = prepare(incidentInput(), budget);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const started = Date.now();
    const outcome = await analyzer.analyze({ ...request, signal: controller.signal });
    expect(outcome.ok).toBe(false);
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
