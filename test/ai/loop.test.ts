/**
 * The loop's own bounds, with an in-process chat model (no HTTP): token budget, tool calls per step,
 * invalid and unknown tool calls, tool output bounds, a model that ignores cancellation, and
 * pseudonymisation end to end through the fixture server.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAiAnalyzer } from '../../src/analysis/ai/analyzer.js';
import type { ChatModel, ChatRequest, ChatResponse } from '../../src/analysis/ai/model.js';
import { aiBudgetFrom } from '../../src/analysis/ai/budget.js';
import { FixtureServer, incidentDocumentOf, tools } from './fixture-server.js';
import {
  DEPLOYMENT,
  NAMESPACE,
  POD,
  aiConfigurationFrom,
  analyzerFor,
  fakeCluster,
  incidentInput,
  prepare,
} from './support.js';

const settings = aiConfigurationFrom({ ANTHROPIC_API_KEY: 'unused', KUBEMEND_AI_MODEL: 'scripted' });

const finalAnswer = JSON.stringify({
  category: 'crash-loop',
  rootCause: 'exits on its own',
  confidence: 0.7,
  evidence: ['Back-off restarting failed container checkout'],
  actions: [],
});

class ScriptedChatModel implements ChatModel {
  readonly provider = 'scripted';
  readonly model = 'scripted';
  readonly requests: ChatRequest[] = [];
  constructor(
    private readonly replies: Array<(request: ChatRequest) => Promise<ChatResponse> | ChatResponse>,
  ) {}
  async generate(request: ChatRequest): Promise<ChatResponse> {
    this.requests.push(request);
    const next = this.replies.shift();
    if (!next) throw new Error('script exhausted');
    return next(request);
  }
}

const reply =
  (text: string, usage = { inputTokens: 100, outputTokens: 20 }): (() => ChatResponse) =>
  () => ({ text, toolCalls: [], usage, finishReason: 'stop' });
const callTools =
  (...calls: Array<{ name: string; input: unknown; invalid?: string }>): (() => ChatResponse) =>
  () => ({
    text: '',
    toolCalls: calls.map((call, index) => ({ id: `call-${index}`, ...call })),
    usage: { inputTokens: 100, outputTokens: 20 },
    finishReason: 'tool-calls',
  });

function analyzerWith(model: ScriptedChatModel, env: Record<string, string> = {}) {
  const tuned = aiConfigurationFrom({ ANTHROPIC_API_KEY: 'unused', KUBEMEND_AI_MODEL: 'scripted', ...env });
  return { analyzer: createAiAnalyzer(tuned, { chatModel: model })!, budget: aiBudgetFrom(tuned) };
}

describe('loop bounds', () => {
  it('stops at the token budget and takes the answer it can still afford', async () => {
    const model = new ScriptedChatModel([
      () => ({
        ...callTools({ name: 'list_pods', input: {} })(),
        usage: { inputTokens: 8_000, outputTokens: 20 },
      }),
      () => ({
        text: finalAnswer,
        toolCalls: [],
        usage: { inputTokens: 9_000, outputTokens: 200 },
        finishReason: 'stop',
      }),
    ]);
    const { analyzer, budget } = analyzerWith(model, {
      KUBEMEND_AI_MAX_TOTAL_TOKENS: '12000',
      KUBEMEND_AI_MAX_OUTPUT_TOKENS: '1000',
    });
    const outcome = await analyzer.analyze(prepare(incidentInput(), budget, fakeCluster()).request);
    expect(outcome.ok, outcome.ok ? '' : outcome.reason).toBe(true);
    // The second call was already the final one: the budget did not allow another investigation step.
    expect(model.requests[1]!.messages.at(-1)).toMatchObject({ role: 'user' });
    expect(JSON.stringify(model.requests[1]!.messages.at(-1))).toMatch(/budget is used up/);
    expect(model.requests[1]!.maxOutputTokens).toBeLessThanOrEqual(1000);
    if (outcome.ok) expect(outcome.finding.factors.join('\n')).toMatch(/stopped by the token budget/);
  });

  it('fails honestly when the token budget cannot pay for an answer', async () => {
    const model = new ScriptedChatModel([reply(finalAnswer)]);
    const { analyzer, budget } = analyzerWith(model, { KUBEMEND_AI_MAX_TOTAL_TOKENS: '2000' });
    const logs = Array.from(
      { length: 200 },
      (_, index) =>
        `2026-11-20T10:00:00Z ERROR request ${index} failed: upstream payments returned 503 after 3 attempts`,
    );
    const input = incidentInput();
    const outcome = await analyzer.analyze(
      prepare({ ...input, context: { ...input.context, logs } }, budget).request,
    );
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.reason).toMatch(/token budget/);
    expect(model.requests).toHaveLength(0);
  });

  it('answers invalid, unknown and surplus tool calls with errors; bounds tool output per step', async () => {
    const model = new ScriptedChatModel([
      callTools(
        { name: 'pod_logs', input: { pod: POD, previous: true } },
        { name: 'run_shell', input: { command: 'kubectl delete ns shop' } },
        { name: 'get_object', input: 'not json', invalid: 'could not parse the input' },
        { name: 'get_object', input: { kind: 'Deployment', name: DEPLOYMENT } },
        { name: 'list_pods', input: {} },
      ),
      reply(finalAnswer),
    ]);
    const { analyzer, budget } = analyzerWith(model, { KUBEMEND_AI_MAX_TOOL_OUTPUT_CHARS: '2000' });
    const cluster = fakeCluster();
    const outcome = await analyzer.analyze(prepare(incidentInput(), budget, cluster).request);
    expect(outcome.ok).toBe(true);
    const results = model.requests[1]!.messages.find((message) => message.role === 'tool');
    expect(results?.role).toBe('tool');
    if (results?.role !== 'tool') return;
    expect(results.results.map((result) => Boolean(result.isError))).toEqual([
      false,
      true,
      true,
      false,
      true,
    ]);
    expect(results.results[1]!.output).toMatch(/unknown tool run_shell/);
    expect(results.results[2]!.output).toMatch(/invalid tool call/);
    expect(results.results[4]!.output).toMatch(/at most 4 tool calls per step/);
    for (const result of results.results) expect(result.output.length).toBeLessThanOrEqual(2_000 + 200);
    expect(cluster.writes).toEqual([]);
  });

  it('a tool read slower than the budget does not hold the analysis', async () => {
    const model = new ScriptedChatModel([callTools({ name: 'list_pods', input: {} }), reply(finalAnswer)]);
    const { analyzer, budget } = analyzerWith(model, { KUBEMEND_AI_TIMEOUT_MS: '1000' });
    const cluster = fakeCluster();
    cluster.readDelayMs = 5_000;
    const started = Date.now();
    const outcome = await analyzer.analyze(prepare(incidentInput(), budget, cluster).request);
    expect(Date.now() - started).toBeLessThan(1_400);
    expect(outcome.usage.toolMs).toBeGreaterThan(500);
    expect(outcome.ok).toBe(false);
  });

  it('a model call that ignores cancellation is cut off at the deadline', async () => {
    const model = new ScriptedChatModel([() => new Promise<ChatResponse>(() => undefined)]);
    const { analyzer, budget } = analyzerWith(model, {
      KUBEMEND_AI_TIMEOUT_MS: '600',
      KUBEMEND_AI_MAX_RETRIES: '0',
    });
    const started = Date.now();
    const outcome = await analyzer.analyze(prepare(incidentInput(), budget).request);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.reason).toMatch(/timed out|no answer within/);
  });

  it('an exception in our own code is an outcome too', async () => {
    const model = new ScriptedChatModel([reply(finalAnswer)]);
    const { analyzer, budget } = analyzerWith(model);
    const request = prepare(incidentInput(), budget).request;
    const broken = { ...request, context: { ...request.context, pods: null } } as unknown as typeof request;
    const outcome = await analyzer.analyze(broken);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.reason).toMatch(/internal error/);
  });

  it('provider none: no analyzer', () => {
    expect(createAiAnalyzer(aiConfigurationFrom({}))).toBeUndefined();
    expect(settings.provider).toBe('anthropic');
  });
});

describe('pseudonymisation (fixture server)', () => {
  let fixture: FixtureServer;
  beforeEach(async () => {
    fixture = await FixtureServer.start();
  });
  afterEach(async () => {
    await fixture.close();
  });

  it('hides names from the provider and restores them in the answer', async () => {
    fixture.setResponder((request) => {
      if (request.turn === 0)
        return tools({
          name: 'pod_logs',
          input: {
            pod: String(
              ((incidentDocumentOf(request)?.pods as Array<Record<string, unknown>>)[0] ?? {}).name,
            ),
            previous: true,
          },
        });
      const document = incidentDocumentOf(request)!;
      const namespace = String((document.scope as Record<string, unknown>).namespace);
      const events = document.events as Array<Record<string, string>>;
      const owner = String(
        ((document.pods as Array<Record<string, unknown>>)[0]!.owners as string[])[0],
      ).split('/')[1]!;
      return {
        kind: 'text',
        text: JSON.stringify({
          category: 'crash-loop',
          rootCause: `The container in ${namespace} exits on its own.`,
          confidence: 0.8,
          evidence: [events[0]!.message],
          actions: [
            {
              type: 'restart',
              target: {
                apiVersion: 'apps/v1',
                kind: 'Deployment',
                namespace,
                name: owner.replace(/^anon-workload-\d+$/, (token) => token),
              },
              params: {},
              description: `restart ${owner}`,
            },
          ],
        }),
      };
    });
    const { analyzer, budget } = analyzerFor('anthropic', fixture, { KUBEMEND_AI_PSEUDONYMIZE: 'true' });
    const outcome = await analyzer.analyze(prepare(incidentInput(), budget, fakeCluster()).request);
    expect(outcome.ok, outcome.ok ? '' : outcome.reason).toBe(true);
    for (const captured of fixture.requests) {
      expect(captured.raw).not.toMatch(/\bshop\b/);
      expect(captured.raw).not.toContain(POD);
      expect(captured.raw).not.toContain('checkout-7d9f8b6c5d');
      expect(captured.raw).toContain('anon-namespace-');
    }
    if (!outcome.ok) return;
    expect(outcome.finding.rootCause).toBe(`The container in ${NAMESPACE} exits on its own.`);
    expect(outcome.finding.evidence[0]!.quote).toContain(POD);
    expect(outcome.finding.evidence[0]!.object).toBe(`Pod/${NAMESPACE}/${POD}`);
    expect(outcome.finding.proposals[0]!.draft.target).toMatchObject({
      namespace: NAMESPACE,
      name: 'checkout-7d9f8b6c5d',
    });
  });
});
