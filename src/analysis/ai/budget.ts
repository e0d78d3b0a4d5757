/**
 * The investigation loop's budget: model calls (steps), tokens and wall-clock time, and the usage it
 * reports. Before each call the loop asks whether another investigation step still fits (else it
 * asks for the answer) and whether any call fits at all (else it stops with the best answer so far).
 * `withHardStop` ends the analysis at the deadline even if a call ignores cancellation.
 */
import type { AiConfiguration } from '../../config/ai.js';
import type { AiBudget, AiUsage } from './port.js';
import type { ChatMessage, ChatResponse } from './model.js';

/** After the deadline, how long the loop may take to wind down before the outcome is forced. */
export const GRACE_MS = 150;
/** Characters per token, for estimates before a provider reports the real count. */
const CHARS_PER_TOKEN = 3.5;
/** Below this output allowance a call cannot produce an answer. */
const MIN_OUTPUT_TOKENS = 256;
/** With less time than this left, no call is started. */
const MIN_CALL_MS = 50;

/** The per-analysis budget the service passes in `AiRequest.budget`. */
export function aiBudgetFrom(settings: AiConfiguration): AiBudget {
  return {
    timeoutMs: settings.timeoutMs,
    maxSteps: settings.maxSteps,
    maxToolOutputChars: settings.maxToolOutputChars,
    maxTotalTokens: settings.maxTotalTokens,
  };
}

/** A token estimate of the next prompt (the system prompt and every message so far). */
export function estimateTokens(system: string, messages: readonly ChatMessage[]): number {
  let chars = system.length;
  for (const message of messages) {
    if (message.role === 'user') chars += message.content.length;
    else if (message.role === 'assistant')
      chars += message.text.length + JSON.stringify(message.toolCalls).length;
    else chars += message.results.reduce((sum, result) => sum + result.output.length + 40, 0);
  }
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

/** The budget that would not cover another investigation step followed by the answer. */
export type Shortage = 'step' | 'time' | 'token';

export type CallAllowance =
  { readonly ok: true; readonly outputTokens: number } | { readonly ok: false; readonly note: string };

export class LoopBudget {
  inputTokens = 0;
  outputTokens = 0;
  modelMs = 0;
  toolMs = 0;
  steps = 0;
  private slowestCallMs = 0;

  constructor(
    private readonly budget: AiBudget,
    private readonly maxOutputTokens: number,
    /** Epoch milliseconds by which the analysis must be over. */
    readonly deadline: number,
  ) {}

  private tokensLeft(): number {
    return this.budget.maxTotalTokens - (this.inputTokens + this.outputTokens);
  }

  /**
   * Whether one more investigation step (a tool round and then the answer) still fits: steps, time
   * (twice the slowest call so far, with a margin) and tokens (twice the prompt and the output).
   */
  shortage(promptTokens: number, now: number): Shortage | undefined {
    const stepsLeft = this.budget.maxSteps - this.steps;
    const remainingMs = this.deadline - now;
    const timeTight = this.slowestCallMs > 0 && remainingMs < 2 * this.slowestCallMs * 1.2 + 200;
    const tokensTight = this.tokensLeft() < 2 * promptTokens + 2 * this.maxOutputTokens;
    return stepsLeft <= 1 ? 'step' : timeTight ? 'time' : tokensTight ? 'token' : undefined;
  }

  /** Whether any call fits (`extraCalls` beyond the step budget are granted for a repair), and its output allowance. */
  allowance(promptTokens: number, extraCalls: number, now: number): CallAllowance {
    if (this.steps >= this.budget.maxSteps + extraCalls)
      return { ok: false, note: `the step budget (${this.budget.maxSteps}) ran out before a valid answer` };
    const outputTokens = Math.min(this.maxOutputTokens, this.tokensLeft() - promptTokens);
    if (outputTokens < MIN_OUTPUT_TOKENS)
      return {
        ok: false,
        note: `the token budget (${this.budget.maxTotalTokens}) ran out before a valid answer`,
      };
    if (this.deadline - now <= MIN_CALL_MS) return { ok: false, note: this.timedOut() };
    return { ok: true, outputTokens };
  }

  /** A model call that answered: one step, its tokens and time (backoff does not count as slowness). */
  recordCall(response: ChatResponse, elapsedMs: number, backoffMs: number): void {
    this.slowestCallMs = Math.max(this.slowestCallMs, elapsedMs - backoffMs);
    this.modelMs += elapsedMs;
    this.steps += 1;
    this.inputTokens += response.usage.inputTokens;
    this.outputTokens += response.usage.outputTokens;
  }

  /** A model call that failed: its time counts, it is not a step. */
  recordFailedCall(elapsedMs: number): void {
    this.modelMs += elapsedMs;
  }

  recordTools(elapsedMs: number): void {
    this.toolMs += elapsedMs;
  }

  timedOut(answered = false): string {
    return `timed out after ${this.budget.timeoutMs} ms (${this.steps} model call(s)${answered ? ' answered' : ''})`;
  }

  usage(redactions: number): AiUsage {
    return {
      inputTokens: this.inputTokens,
      outputTokens: this.outputTokens,
      modelMs: Math.round(this.modelMs),
      toolMs: Math.round(this.toolMs),
      steps: this.steps,
      redactions,
    };
  }
}

/**
 * Runs `work` and settles with it, unless `timeoutMs` plus the grace period pass first: then
 * `controller` is aborted and the result is `onTimeout()`. The controller is aborted either way
 * once the race is over, so that nothing keeps running after the outcome.
 */
export async function withHardStop<T>(
  work: () => Promise<T>,
  timeoutMs: number,
  controller: AbortController,
  onTimeout: () => T,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hardStop = new Promise<T>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve(onTimeout());
    }, timeoutMs + GRACE_MS);
  });
  try {
    return await Promise.race([work(), hardStop]);
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}
