/**
 * The investigation loop behind the `AiAnalyzer` port. The model gets the incident as untrusted
 * data, the rules' findings as hints and — when a cluster is connected — read-only tools. It is
 * bounded by steps, tool output per step, total tokens and wall-clock time; when the budget runs
 * out it is asked for its answer, and the best valid answer so far wins. Provider trouble and
 * timeouts are outcomes (`{ ok: false, reason }`), never exceptions: the rules stay the floor.
 *
 * The answer is validated (one repair attempt), its quotes are checked verbatim against what the
 * model was given, and its actions pass the scope gates before they become drafts for the planner.
 */
import { randomBytes } from 'node:crypto';
import { Facts } from '../facts.js';
import type { IncidentContext } from '../../context/model.js';
import { sanitizeLogLine } from '../../context/log-summary.js';
import type { AiAnalyzer, AiFinding, AiOutcome, AiRequest, AiUsage } from './port.js';
import { type ParsedAnswer, parseAnswer, salvageAnswer } from './answer.js';
import {
  DEFAULT_DOCUMENT_LIMITS,
  type IncidentDocument,
  Scrubber,
  buildIncidentDocument,
  escapeForPrompt,
  indexLeaves,
  prune,
} from './document.js';
import {
  type ChatMessage,
  type ChatModel,
  type ChatToolCall,
  type ChatToolResult,
  ProviderError,
} from './model.js';
import {
  FINAL_ANSWER_MESSAGE,
  NO_MORE_TOOLS,
  incidentMessage,
  repairMessage,
  systemPrompt,
  toolDataMessage,
} from './prompt.js';
import { gateProposals } from './proposals.js';
import { createChatModel, type FetchFunction } from './providers.js';
import { Pseudonymizer, Redactor } from './redaction.js';
import { ProviderResilience } from './resilience.js';
import type { AiSettings } from './settings.js';
import { INVESTIGATION_TOOLS, type InvestigationTool, ToolRefusal, readOnlyView } from './tools/index.js';

export interface AnalyzerConfig {
  readonly callTimeoutMs: number;
  readonly maxOutputTokens: number;
  readonly maxContextChars: number;
  readonly redaction: {
    readonly enabled: boolean;
    readonly extraPatterns: readonly string[];
    readonly pseudonymize: boolean;
  };
  /** Tool calls executed per model step; more are answered with an error. */
  readonly maxToolCallsPerStep?: number;
}

/** After the deadline, how long the loop may take to wind down before the outcome is forced. */
const GRACE_MS = 150;
const MAX_TOOL_CALLS_PER_STEP = 4;
/** Characters per token, for estimates before a provider reports the real count. */
const CHARS_PER_TOKEN = 3.5;

interface RunState {
  inputTokens: number;
  outputTokens: number;
  modelMs: number;
  toolMs: number;
  steps: number;
  best?: ParsedAnswer;
  bestIsSalvage: boolean;
  notes: string[];
}

function round(value: number): number {
  return Math.round(value);
}

function estimateTokens(system: string, messages: readonly ChatMessage[]): number {
  let chars = system.length;
  for (const message of messages) {
    if (message.role === 'user') chars += message.content.length;
    else if (message.role === 'assistant')
      chars += message.text.length + JSON.stringify(message.toolCalls).length;
    else chars += message.results.reduce((sum, result) => sum + result.output.length + 40, 0);
  }
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

/** Names a pseudonymising run replaces: the namespace, pods, owners, objects, nodes, the target. */
function collectNames(
  ctx: IncidentContext,
  pseudonymizer: Pseudonymizer,
  namespace: string | undefined,
): void {
  pseudonymizer.add('namespace', namespace);
  for (const pod of ctx.pods) {
    pseudonymizer.add('namespace', pod.namespace);
    pseudonymizer.add('pod', pod.name);
    pseudonymizer.add('node', pod.nodeName);
    for (const owner of pod.ownerReferences) pseudonymizer.add('workload', owner.name);
  }
  for (const object of ctx.objects) {
    pseudonymizer.add('namespace', object.namespace);
    pseudonymizer.add(object.kind === 'Node' ? 'node' : 'object', object.name);
  }
  for (const event of ctx.events) {
    pseudonymizer.add('namespace', event.object.namespace);
    pseudonymizer.add('object', event.object.name);
  }
  pseudonymizer.add('namespace', ctx.target?.namespace);
  pseudonymizer.add('object', ctx.target?.name);
}

export class ModelAiAnalyzer implements AiAnalyzer {
  readonly provider: string;
  readonly model: string;
  private readonly chat: ChatModel;
  private readonly resilience: ProviderResilience;
  private readonly config: AnalyzerConfig;
  private readonly tools: readonly InvestigationTool[];

  constructor(
    chat: ChatModel,
    resilience: ProviderResilience,
    config: AnalyzerConfig,
    tools: readonly InvestigationTool[] = INVESTIGATION_TOOLS,
  ) {
    this.chat = chat;
    this.resilience = resilience;
    this.config = config;
    this.tools = tools;
    this.provider = chat.provider;
    this.model = chat.model;
  }

  /** The provider's circuit: `open` means calls fail fast until the half-open probe succeeds. */
  get circuit(): string {
    return this.resilience.circuit;
  }

  async analyze(request: AiRequest): Promise<AiOutcome> {
    const started = Date.now();
    const deadline = started + request.budget.timeoutMs;
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    request.signal?.addEventListener('abort', onAbort, { once: true });
    const state: RunState = {
      inputTokens: 0,
      outputTokens: 0,
      modelMs: 0,
      toolMs: 0,
      steps: 0,
      bestIsSalvage: false,
      notes: [],
    };
    const redactor = new Redactor({
      enabled: this.config.redaction.enabled,
      extraPatterns: this.config.redaction.extraPatterns,
    });
    const usage = (): AiUsage => ({
      inputTokens: state.inputTokens,
      outputTokens: state.outputTokens,
      modelMs: round(state.modelMs),
      toolMs: round(state.toolMs),
      steps: state.steps,
      redactions: redactor.count,
    });
    const fail = (reason: string): AiOutcome => ({
      ok: false,
      reason,
      usage: usage(),
      provider: this.provider,
      model: this.model,
    });

    let finish: (() => AiOutcome) | undefined;
    let timer: NodeJS.Timeout | undefined;
    const hardStop = new Promise<AiOutcome>((resolve) => {
      timer = setTimeout(() => {
        controller.abort();
        resolve(finish ? finish() : fail(`timed out after ${request.budget.timeoutMs} ms`));
      }, request.budget.timeoutMs + GRACE_MS);
    });
    const run = async (): Promise<AiOutcome> => {
      try {
        return await this.run(
          request,
          state,
          redactor,
          deadline,
          controller.signal,
          usage,
          fail,
          (finisher) => {
            finish = finisher;
          },
        );
      } catch (error) {
        // A bug in our own code: still an outcome, the rules stay the floor.
        return fail(`internal error in the AI analysis (${error instanceof Error ? error.name : 'error'})`);
      }
    };
    try {
      return await Promise.race([run(), hardStop]);
    } finally {
      clearTimeout(timer);
      controller.abort();
      request.signal?.removeEventListener('abort', onAbort);
    }
  }

  private async run(
    request: AiRequest,
    state: RunState,
    redactor: Redactor,
    deadline: number,
    signal: AbortSignal,
    usage: () => AiUsage,
    fail: (reason: string) => AiOutcome,
    onFinisher: (finisher: () => AiOutcome) => void,
  ): Promise<AiOutcome> {
    const { budget, context } = request;
    const facts = new Facts(context);
    const namespace = facts.namespace;
    const pseudonymizer = this.config.redaction.pseudonymize ? new Pseudonymizer() : undefined;
    if (pseudonymizer) {
      pseudonymizer.add('workload', facts.workload?.name);
      collectNames(context, pseudonymizer, namespace);
    }
    const scrubber = new Scrubber(redactor, pseudonymizer);
    const restore = (text: string): string => (pseudonymizer ? pseudonymizer.restore(text) : text);
    const nonce = randomBytes(6).toString('hex');

    const document = buildIncidentDocument(context, request.ruleFindings, scrubber, namespace, {
      ...DEFAULT_DOCUMENT_LIMITS,
      maxChars: this.config.maxContextChars,
    });
    state.notes.push(...document.notes);
    const tools = request.cluster ? this.tools : [];
    const cluster = request.cluster ? readOnlyView(request.cluster) : undefined;
    const system = systemPrompt({
      ...(document.namespace ? { namespace: document.namespace } : {}),
      tools: tools.length > 0,
      nonce,
    });
    const messages: ChatMessage[] = [{ role: 'user', content: incidentMessage(document.json, nonce) }];

    const outcomeOf = (): AiOutcome => {
      if (!state.best) return fail(state.notes.at(-1) ?? 'no answer');
      return {
        ok: true,
        finding: this.toFinding(state.best, state, document, namespace, restore),
        usage: usage(),
        provider: this.provider,
        model: this.model,
      };
    };
    // Whatever happens after the deadline, the best answer so far is the outcome.
    onFinisher(() => {
      if (!state.best)
        state.notes.push(`timed out after ${budget.timeoutMs} ms (${state.steps} model call(s))`);
      else
        state.notes.push(
          `the wall-clock budget (${budget.timeoutMs} ms) ran out; the best answer so far was kept`,
        );
      return outcomeOf();
    });

    let finalPhase = tools.length === 0;
    let repairs = 0;
    let refusedToolsInFinal = false;
    let slowestCallMs = 0;

    for (;;) {
      const remainingMs = deadline - Date.now();
      const usedTokens = state.inputTokens + state.outputTokens;
      const promptTokens = estimateTokens(system, messages);
      const tokensLeft = budget.maxTotalTokens - usedTokens;
      if (!finalPhase) {
        const stepsLeft = budget.maxSteps - state.steps;
        const timeTight = slowestCallMs > 0 && remainingMs < 2 * slowestCallMs * 1.2 + 200;
        const tokensTight = tokensLeft < 2 * promptTokens + 2 * this.config.maxOutputTokens;
        if (stepsLeft <= 1 || timeTight || tokensTight) {
          finalPhase = true;
          if (state.steps > 0) {
            messages.push({ role: 'user', content: FINAL_ANSWER_MESSAGE });
            state.notes.push(
              `investigation stopped by the ${stepsLeft <= 1 ? 'step' : timeTight ? 'time' : 'token'} budget after ${state.steps} step(s)`,
            );
          }
        }
      }
      if (state.steps >= budget.maxSteps + repairs) {
        state.notes.push(`the step budget (${budget.maxSteps}) ran out before a valid answer`);
        break;
      }
      const outputTokens = Math.min(this.config.maxOutputTokens, tokensLeft - promptTokens);
      if (outputTokens < 256) {
        state.notes.push(`the token budget (${budget.maxTotalTokens}) ran out before a valid answer`);
        break;
      }
      if (remainingMs <= 50) {
        state.notes.push(`timed out after ${budget.timeoutMs} ms (${state.steps} model call(s))`);
        break;
      }

      const callStarted = performance.now();
      let response;
      const stats = { attempts: 0, backoffMs: 0 };
      try {
        response = await this.resilience.call(
          (callSignal) =>
            this.chat.generate({
              system,
              messages: [...messages],
              tools,
              maxOutputTokens: outputTokens,
              signal: callSignal,
            }),
          { deadline, callTimeoutMs: this.config.callTimeoutMs, signal },
          stats,
        );
      } catch (error) {
        const problem =
          error instanceof ProviderError
            ? error
            : new ProviderError('network', 'the provider call failed', { cause: error });
        const elapsed = performance.now() - callStarted;
        state.modelMs += elapsed;
        const attempts = stats.attempts > 1 ? ` after ${stats.attempts} attempts` : '';
        state.notes.push(
          problem.failure === 'timeout' && Date.now() >= deadline - 60
            ? `timed out after ${budget.timeoutMs} ms (${state.steps} model call(s) answered)`
            : `${problem.message}${attempts}`,
        );
        break;
      }
      const elapsed = performance.now() - callStarted;
      slowestCallMs = Math.max(slowestCallMs, elapsed - stats.backoffMs);
      state.modelMs += elapsed;
      state.steps += 1;
      state.inputTokens += response.usage.inputTokens;
      state.outputTokens += response.usage.outputTokens;

      if (response.toolCalls.length > 0) {
        messages.push({ role: 'assistant', text: response.text, toolCalls: response.toolCalls });
        if (finalPhase || !cluster) {
          messages.push({
            role: 'tool',
            results: response.toolCalls.map((call) => ({
              toolCallId: call.id,
              toolName: call.name,
              output: NO_MORE_TOOLS,
              isError: true,
            })),
          });
          if (refusedToolsInFinal) {
            state.notes.push('the model kept calling tools after its budget was used up');
            break;
          }
          refusedToolsInFinal = true;
          // One extra call for the answer, as for a repair.
          repairs = 1;
          finalPhase = true;
          continue;
        }
        const toolStarted = performance.now();
        const results = await this.runTools(
          response.toolCalls,
          cluster,
          namespace,
          scrubber,
          document,
          budget.maxToolOutputChars,
          nonce,
          deadline,
          pseudonymizer,
        );
        state.toolMs += performance.now() - toolStarted;
        messages.push({ role: 'tool', results });
        continue;
      }

      const parsed = parseAnswer(response.text);
      if (parsed.ok) {
        state.best = parsed.value;
        state.bestIsSalvage = false;
        break;
      }
      const salvaged = parsed.raw !== undefined ? salvageAnswer(parsed.raw) : undefined;
      if (salvaged && (!state.best || state.bestIsSalvage)) {
        state.best = salvaged;
        state.bestIsSalvage = true;
      }
      if (repairs >= 1) {
        state.notes.push(
          `the model's answer was invalid after one repair attempt: ${parsed.problems.slice(0, 3).join('; ')}`,
        );
        break;
      }
      repairs = 1;
      finalPhase = true;
      messages.push({ role: 'assistant', text: response.text || '(empty reply)', toolCalls: [] });
      messages.push({ role: 'user', content: repairMessage(parsed.problems) });
    }
    if (state.best && state.bestIsSalvage)
      state.notes.push(
        `kept the valid part of the model's answer (${state.best.invalidActions} malformed action(s) dropped)`,
      );
    return outcomeOf();
  }

  private async runTools(
    calls: readonly ChatToolCall[],
    cluster: NonNullable<ReturnType<typeof readOnlyView>>,
    namespace: string | undefined,
    scrubber: Scrubber,
    document: IncidentDocument,
    maxChars: number,
    nonce: string,
    deadline: number,
    pseudonymizer: Pseudonymizer | undefined,
  ): Promise<ChatToolResult[]> {
    const perStep = this.config.maxToolCallsPerStep ?? MAX_TOOL_CALLS_PER_STEP;
    const share = Math.max(500, Math.floor(maxChars / Math.min(calls.length, perStep)));
    return Promise.all(
      calls.map(async (call, position): Promise<ChatToolResult> => {
        const base = { toolCallId: call.id, toolName: call.name };
        const error = (message: string): ChatToolResult => ({
          ...base,
          output: scrubber.text(message, 500),
          isError: true,
        });
        if (position >= perStep) return error(`not executed: at most ${perStep} tool calls per step`);
        if (call.invalid) return error(`invalid tool call: ${call.invalid}`);
        const selected = this.tools.find((candidate) => candidate.name === call.name);
        if (!selected) return error(`unknown tool ${call.name}`);
        const input = pseudonymizer ? pseudonymizer.restoreDeep(call.input) : call.input;
        const remaining = deadline - Date.now();
        if (remaining < 100) return error('not executed: the time budget is used up');
        let timer: NodeJS.Timeout | undefined;
        try {
          const output = await Promise.race([
            selected.run(input, { cluster, namespace }),
            new Promise<never>((_resolve, reject) => {
              timer = setTimeout(
                () => reject(new ToolRefusal('the read did not finish within the time budget')),
                remaining,
              );
            }),
          ]);
          const object = output.object ? scrubber.text(output.object, 300) : undefined;
          let view = scrubber.value(output.value);
          let json = escapeForPrompt(JSON.stringify(view));
          for (const bounds of [
            { maxDepth: 8, maxArray: 15, maxString: 400 },
            { maxDepth: 6, maxArray: 8, maxString: 200 },
            { maxDepth: 4, maxArray: 4, maxString: 120 },
          ]) {
            if (json.length <= share) break;
            view = prune(view, bounds);
            json = escapeForPrompt(JSON.stringify(view));
          }
          if (json.length > share) json = `${json.slice(0, share)}…(truncated)`;
          indexLeaves(document.evidence, view, output.kind, 'cluster', object);
          document.evidence.add({
            text: JSON.stringify(view),
            kind: output.kind,
            origin: 'cluster',
            ...(object ? { object } : {}),
          });
          return { ...base, output: toolDataMessage(json, nonce) };
        } catch (failure) {
          if (failure instanceof ToolRefusal) return error(failure.message);
          const message = failure instanceof Error ? sanitizeLogLine(failure.message, 200) : 'unknown error';
          return error(`the read failed: ${message}`);
        } finally {
          clearTimeout(timer);
        }
      }),
    );
  }

  private toFinding(
    parsed: ParsedAnswer,
    state: RunState,
    document: IncidentDocument,
    namespace: string | undefined,
    restore: (text: string) => string,
  ): AiFinding {
    const { answer } = parsed;
    const { evidence, dropped } = document.evidence.verify(answer.evidence, restore);
    const restoreDeep = <T>(value: T): T => JSON.parse(restore(JSON.stringify(value))) as T;
    const gate = gateProposals(restoreDeep(answer.actions), namespace);

    let confidence = Math.min(answer.confidence, 0.95);
    if (dropped > 0) confidence -= 0.1 * dropped;
    if (evidence.length === 0 && answer.category !== 'unknown') confidence = Math.min(confidence, 0.4);
    if (answer.category === 'unknown') confidence = Math.min(confidence, 0.3);
    confidence = Math.round(Math.max(0, Math.min(1, confidence)) * 100) / 100;

    const factors = answer.factors.map((factor) => restore(sanitizeLogLine(factor, 300)));
    if (dropped > 0)
      factors.push(
        `${dropped} quote(s) the model cited were not found verbatim in the context and were dropped; confidence lowered`,
      );
    if (parsed.ignoredFields.length > 0)
      factors.push(
        `ignored fields the model may not set: ${parsed.ignoredFields.map((field) => sanitizeLogLine(field, 40)).join(', ')}`,
      );
    if (parsed.invalidActions > 0)
      factors.push(`${parsed.invalidActions} malformed action(s) from the model were dropped`);
    factors.push(
      ...gate.notes,
      ...state.notes.filter((note) => !note.startsWith("the model's answer was invalid")),
    );

    return {
      category: answer.category,
      rootCause: restore(sanitizeLogLine(answer.rootCause, 1_000)),
      confidence,
      factors,
      evidence,
      droppedEvidence: dropped,
      proposals: gate.proposals,
    };
  }
}

export interface CreateAnalyzerOptions {
  /** Replaces `fetch` for the provider SDK (tests). */
  readonly fetch?: FetchFunction;
  /** Replaces the SDK-backed model entirely (unit tests of the loop). */
  readonly chatModel?: ChatModel;
  /** Jitter source for backoff (tests make it deterministic). */
  readonly random?: () => number;
}

/**
 * The analyzer for resolved settings, or undefined when the provider is `none` (see
 * `settings.reason`). Create it once per process: its circuit breaker is per provider.
 */
export function createAiAnalyzer(
  settings: AiSettings,
  options: CreateAnalyzerOptions = {},
): ModelAiAnalyzer | undefined {
  if (settings.provider === 'none' && !options.chatModel) return undefined;
  const chat = options.chatModel ?? createChatModel(settings, options.fetch ? { fetch: options.fetch } : {});
  const resilience = new ProviderResilience(
    {
      maxRetries: settings.retry.maxRetries,
      initialDelayMs: settings.retry.initialDelayMs,
      maxDelayMs: settings.retry.maxDelayMs,
      breakerFailures: settings.breaker.failures,
      halfOpenAfterMs: settings.breaker.halfOpenAfterMs,
    },
    options.random,
  );
  return new ModelAiAnalyzer(chat, resilience, {
    callTimeoutMs: settings.callTimeoutMs,
    maxOutputTokens: settings.maxOutputTokens,
    maxContextChars: settings.maxContextChars,
    redaction: settings.redaction,
  });
}
