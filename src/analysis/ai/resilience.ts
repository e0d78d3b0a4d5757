/**
 * Resilience for provider calls (cockatiel): retries with exponential backoff and full jitter on
 * 429/5xx/timeouts/network errors, honouring `retry-after` / `retry-after-ms`; a timeout per call
 * (bounded by what is left of the analysis budget); and a circuit breaker per provider that opens
 * after consecutive transient failures, so that later calls fail fast instead of waiting.
 *
 * A retry is only made when its delay fits in the remaining budget: a `retry-after` longer than
 * the budget ends the call at once with the provider's answer.
 */
import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  DelegateBackoff,
  type CircuitBreakerPolicy,
  type IRetryBackoffContext,
  circuitBreaker,
  handleWhen,
  retry,
  wrap,
} from 'cockatiel';
import { ProviderError } from './model.js';

export interface ResilienceOptions {
  readonly maxRetries: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly breakerFailures: number;
  readonly halfOpenAfterMs: number;
}

export interface CallOptions {
  /** Epoch milliseconds by which the call (retries included) must be over. */
  readonly deadline: number;
  readonly callTimeoutMs: number;
  readonly signal?: AbortSignal;
}

export interface CallStats {
  attempts: number;
  /** Time spent waiting between attempts. */
  backoffMs: number;
}

/** Attempts are not started with less than this left: the answer could not arrive in time. */
const MIN_USEFUL_MS = 50;

export class ProviderResilience {
  private readonly options: ResilienceOptions;
  private readonly breaker: CircuitBreakerPolicy;
  private readonly random: () => number;

  constructor(options: ResilienceOptions, random: () => number = Math.random) {
    this.options = options;
    this.random = random;
    this.breaker = circuitBreaker(
      handleWhen((error) => error instanceof ProviderError && error.transient),
      { halfOpenAfter: options.halfOpenAfterMs, breaker: new ConsecutiveBreaker(options.breakerFailures) },
    );
  }

  get circuit(): 'closed' | 'open' | 'half-open' | 'isolated' {
    switch (this.breaker.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.Open:
        return 'open';
      case CircuitState.HalfOpen:
        return 'half-open';
      default:
        return 'isolated';
    }
  }

  private delayFor(error: unknown, attempt: number): number {
    if (error instanceof ProviderError && error.retryAfterMs !== undefined) return error.retryAfterMs;
    const ceiling = Math.min(this.options.maxDelayMs, this.options.initialDelayMs * 2 ** (attempt - 1));
    return Math.round(ceiling * (0.5 + this.random() * 0.5));
  }

  /**
   * Run `call` under retry, timeout and the breaker. Throws a `ProviderError` (never anything
   * else): `circuit-open` when the breaker rejects the call.
   */
  async call<T>(
    call: (signal: AbortSignal) => Promise<T>,
    options: CallOptions,
    stats?: CallStats,
  ): Promise<T> {
    const remaining = (): number => options.deadline - Date.now();
    const plannedDelays = new Map<number, number>();
    const retryPolicy = retry(
      handleWhen((error) => {
        if (!(error instanceof ProviderError) || !error.transient) return false;
        if (options.signal?.aborted) return false;
        const attempt = plannedDelays.size + 1;
        const delay = this.delayFor(error, attempt);
        if (delay + MIN_USEFUL_MS * 4 > remaining()) return false;
        plannedDelays.set(attempt, delay);
        return true;
      }),
      {
        maxAttempts: this.options.maxRetries,
        backoff: new DelegateBackoff((context: IRetryBackoffContext<unknown>) => {
          const delay =
            plannedDelays.get(context.attempt) ??
            this.delayFor('error' in context.result ? context.result.error : undefined, context.attempt);
          if (stats) stats.backoffMs += delay;
          return delay;
        }),
      },
    );
    try {
      return await wrap(retryPolicy, this.breaker).execute(async () => {
        if (stats) stats.attempts += 1;
        const left = remaining();
        if (options.signal?.aborted) throw new ProviderError('aborted', 'the analysis was cancelled');
        if (left < MIN_USEFUL_MS)
          throw new ProviderError('timeout', 'the analysis budget ran out before the call');
        const timeoutMs = Math.min(options.callTimeoutMs, left);
        const timer = AbortSignal.timeout(timeoutMs);
        const signal = options.signal ? AbortSignal.any([options.signal, timer]) : timer;
        try {
          return await call(signal);
        } catch (error) {
          if (error instanceof ProviderError) throw error;
          if (timer.aborted)
            throw new ProviderError('timeout', `no answer within ${timeoutMs} ms`, { cause: error });
          if (options.signal?.aborted)
            throw new ProviderError('aborted', 'the analysis was cancelled', { cause: error });
          throw new ProviderError('network', 'the provider call failed', { cause: error });
        }
      }, options.signal);
    } catch (error) {
      if (error instanceof ProviderError) throw error;
      if (error instanceof BrokenCircuitError)
        throw new ProviderError(
          'circuit-open',
          `circuit open after ${this.options.breakerFailures} consecutive provider failures; calls resume after ${Math.round(this.options.halfOpenAfterMs / 1000)} s`,
          { cause: error },
        );
      throw new ProviderError('network', 'the provider call failed', { cause: error });
    }
  }
}
