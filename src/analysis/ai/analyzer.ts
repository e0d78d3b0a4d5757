/**
 * The investigation loop behind the `AiAnalyzer` port. The model gets the incident as untrusted
 * data, the rules' findings as hints and — when a cluster is connected — read-only tools. It is
 * bounded by steps, tool output per step, total tokens and wall-clock time; when the budget runs
 * out it is asked for its answer, and the best valid answer so far wins. Provider trouble and
 * timeouts are outcomes (`{ ok: false, reason }`), never exceptions: the rules stay the floor.
 *
 * The loop itself only sequences; its parts live beside it: `budget.ts` (steps, tokens, time, the
 * hard stop), `dispatch.ts` (tool calls), `repair.ts` (invalid answers, best so far) and
 * `conclusion.ts` (quotes checked verbatim, actions through the scope gates).
 */
import { randomBytes } from 'node:crypto';
import { Facts } from '../facts.js';
import type { AiAnalyzer, AiOutcome, AiRequest } from './port.js';
import { LoopBudget, estimateTokens, withHardStop } from './budget.js';
import { findingOf } from './conclusion.js';
import { MAX_TOOL_CALLS_PER_STEP, dispatchToolCalls, refuseToolCalls } from './dispatch.js';
import {
  DEFAULT_DOCUMENT_LIMITS,
  type IncidentDocument,
  Scrubber,
  buildIncidentDocument,
} from './document.js';
import {
  type ChatMessage,
  type ChatModel,
  type ChatResponse,
  type ChatToolSpec,
  ProviderError,
} from './model.js';
import { FINAL_ANSWER_MESSAGE, incidentMessage, systemPrompt } from './prompt.js';
import { createChatModel, type FetchFunction } from './providers.js';
import { Redactor, incidentPseudonymizer } from './redaction.js';
import { AnswerRepair } from './repair.js';
import { ProviderResilience } from './resilience.js';
import type { AiConfiguration } from '../../config/ai.js';
import { INVESTIGATION_TOOLS, type InvestigationTool, readOnlyView } from './tools/index.js';

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

/** One analysis in progress: what the loop reads and what the outcome is built from. */
interface Run {
  readonly request: AiRequest;
  readonly budget: LoopBudget;
  readonly redactor: Redactor;
  readonly repair: AnswerRepair;
  readonly notes: string[];
  readonly signal: AbortSignal;
  /** Set once the incident document exists: builds the outcome from the best answer so far. */
  outcome?: () => AiOutcome;
}

type CallResult = { readonly ok: true; readonly response: ChatResponse } | { readonly ok: false };

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
    const { timeoutMs } = request.budget;
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    request.signal?.addEventListener('abort', onAbort, { once: true });
    const run: Run = {
      request,
      budget: new LoopBudget(request.budget, this.config.maxOutputTokens, Date.now() + timeoutMs),
      redactor: new Redactor({
        enabled: this.config.redaction.enabled,
        extraPatterns: this.config.redaction.extraPatterns,
      }),
      repair: new AnswerRepair(),
      notes: [],
      signal: controller.signal,
    };
    // Whatever happens after the deadline, the best answer so far is the outcome.
    const onTimeout = (): AiOutcome => {
      if (!run.outcome) return this.fail(run, `timed out after ${timeoutMs} ms`);
      run.notes.push(
        run.repair.best
          ? `the wall-clock budget (${timeoutMs} ms) ran out; the best answer so far was kept`
          : run.budget.timedOut(),
      );
      return run.outcome();
    };
    const work = async (): Promise<AiOutcome> => {
      try {
        return await this.investigate(run);
      } catch (error) {
        // A bug in our own code: still an outcome, the rules stay the floor.
        return this.fail(
          run,
          `internal error in the AI analysis (${error instanceof Error ? error.name : 'error'})`,
        );
      }
    };
    try {
      return await withHardStop(work, timeoutMs, controller, onTimeout);
    } finally {
      request.signal?.removeEventListener('abort', onAbort);
    }
  }

  private fail(run: Run, reason: string): AiOutcome {
    const usage = run.budget.usage(run.redactor.count);
    return { ok: false, reason, usage, provider: this.provider, model: this.model };
  }

  private async investigate(run: Run): Promise<AiOutcome> {
    const { request, budget, repair, notes } = run;
    const facts = new Facts(request.context);
    const namespace = facts.namespace;
    const pseudonymizer = this.config.redaction.pseudonymize
      ? incidentPseudonymizer(request.context, namespace, facts.workload?.name)
      : undefined;
    const scrubber = new Scrubber(run.redactor, pseudonymizer);
    const restore = (text: string): string => (pseudonymizer ? pseudonymizer.restore(text) : text);
    const nonce = randomBytes(6).toString('hex');

    const document = buildIncidentDocument(request.context, request.ruleFindings, scrubber, namespace, {
      ...DEFAULT_DOCUMENT_LIMITS,
      maxChars: this.config.maxContextChars,
    });
    notes.push(...document.notes);
    const tools = request.cluster ? this.tools : [];
    const cluster = request.cluster ? readOnlyView(request.cluster) : undefined;
    const system = systemPrompt({
      ...(document.namespace ? { namespace: document.namespace } : {}),
      tools: tools.length > 0,
      nonce,
    });
    const messages: ChatMessage[] = [{ role: 'user', content: incidentMessage(document.json, nonce) }];
    run.outcome = () => this.outcomeOf(run, document, namespace, restore);

    let finalPhase = tools.length === 0;
    for (;;) {
      const now = Date.now();
      const promptTokens = estimateTokens(system, messages);
      const shortage = finalPhase ? undefined : budget.shortage(promptTokens, now);
      if (shortage) {
        finalPhase = true;
        if (budget.steps > 0) {
          messages.push({ role: 'user', content: FINAL_ANSWER_MESSAGE });
          notes.push(`investigation stopped by the ${shortage} budget after ${budget.steps} step(s)`);
        }
      }
      const allowance = budget.allowance(promptTokens, repair.extraCalls, now);
      if (!allowance.ok) {
        notes.push(allowance.note);
        break;
      }

      const call = await this.call(run, system, messages, tools, allowance.outputTokens);
      if (!call.ok) break;
      const { response } = call;

      if (response.toolCalls.length > 0) {
        messages.push({ role: 'assistant', text: response.text, toolCalls: response.toolCalls });
        if (finalPhase || !cluster) {
          messages.push({ role: 'tool', results: refuseToolCalls(response.toolCalls) });
          const refusal = repair.refuseTools();
          if (!refusal.again) {
            notes.push(refusal.note);
            break;
          }
          finalPhase = true;
          continue;
        }
        const started = performance.now();
        const results = await dispatchToolCalls(response.toolCalls, {
          tools: this.tools,
          cluster,
          namespace,
          scrubber,
          document,
          maxChars: request.budget.maxToolOutputChars,
          perStep: this.config.maxToolCallsPerStep ?? MAX_TOOL_CALLS_PER_STEP,
          nonce,
          deadline: budget.deadline,
          pseudonymizer,
        });
        budget.recordTools(performance.now() - started);
        messages.push({ role: 'tool', results });
        continue;
      }

      const reply = repair.accept(response.text);
      if (reply.verdict === 'answered') break;
      if (reply.verdict === 'give-up') {
        notes.push(reply.note);
        break;
      }
      finalPhase = true;
      messages.push(...reply.messages);
    }
    const salvaged = repair.salvageNote();
    if (salvaged) notes.push(salvaged);
    return run.outcome();
  }

  /** One model call through retries, timeouts and the circuit breaker; a failure is noted. */
  private async call(
    run: Run,
    system: string,
    messages: readonly ChatMessage[],
    tools: readonly ChatToolSpec[],
    maxOutputTokens: number,
  ): Promise<CallResult> {
    const { budget } = run;
    const started = performance.now();
    const stats = { attempts: 0, backoffMs: 0 };
    try {
      const response = await this.resilience.call(
        (signal) => this.chat.generate({ system, messages: [...messages], tools, maxOutputTokens, signal }),
        { deadline: budget.deadline, callTimeoutMs: this.config.callTimeoutMs, signal: run.signal },
        stats,
      );
      budget.recordCall(response, performance.now() - started, stats.backoffMs);
      return { ok: true, response };
    } catch (error) {
      const problem =
        error instanceof ProviderError
          ? error
          : new ProviderError('network', 'the provider call failed', { cause: error });
      budget.recordFailedCall(performance.now() - started);
      const attempts = stats.attempts > 1 ? ` after ${stats.attempts} attempts` : '';
      run.notes.push(
        problem.failure === 'timeout' && Date.now() >= budget.deadline - 60
          ? budget.timedOut(true)
          : `${problem.message}${attempts}`,
      );
      return { ok: false };
    }
  }

  private outcomeOf(
    run: Run,
    document: IncidentDocument,
    namespace: string | undefined,
    restore: (text: string) => string,
  ): AiOutcome {
    const best = run.repair.best;
    if (!best) return this.fail(run, run.notes.at(-1) ?? 'no answer');
    return {
      ok: true,
      finding: findingOf(best, run.notes, document, namespace, restore),
      usage: run.budget.usage(run.redactor.count),
      provider: this.provider,
      model: this.model,
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
 * The analyzer for `configuration.ai`, or undefined when the provider is `none` (see
 * `settings.reason`). Create it once per process: its circuit breaker is per provider.
 */
export function createAiAnalyzer(
  settings: AiConfiguration,
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
