/**
 * Graceful stop of `kubemend serve` (SIGTERM), within `server.shutdownTimeout` from the signal:
 *
 * 1. draining — /readyz answers 503 at once (the endpoints controller takes the pod out of the
 *    Service), requests are still served, with `Connection: close`, for `server.shutdownDelay`;
 * 2. closing — the listener closes (no new connections); requests arriving on open connections get
 *    503 `shutting-down`; event streams end; requests in flight finish; the service starts no new
 *    asynchronous work and lets queued work and executions run;
 * 3. at the deadline — what is left is cut: unstarted and still-analysing asynchronous work ends
 *    failed (recorded), executions hand their session over to the next reconciliation of another
 *    instance (`RemediationService.stop`), and the remaining connections are closed.
 *
 * Health routes are never refused: /livez stays 200 throughout (the process is alive and busy).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RemediationService, StopReport } from '../../service/remediation-service.js';
import { problem, sendProblem } from './problem.js';

export type ShutdownPhase = 'serving' | 'draining' | 'closing';

export interface ShutdownOptions {
  readonly service: RemediationService;
  readonly timeoutMs: number;
  readonly delayMs: number;
}

const HEALTH = new Set(['/livez', '/healthz', '/readyz', '/metrics']);

export class Shutdown {
  private phase: ShutdownPhase = 'serving';
  private running: Promise<StopReport> | undefined;

  constructor(
    private readonly app: FastifyInstance,
    private readonly options: ShutdownOptions,
  ) {}

  get current(): ShutdownPhase {
    return this.phase;
  }

  /** The `onRequest` hook: `Connection: close` once draining, 503 for new work once closing. */
  readonly hook = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    if (this.phase === 'serving') return undefined;
    reply.header('connection', 'close');
    if (this.phase === 'closing' && !HEALTH.has(request.url.split('?')[0]!))
      return sendProblem(
        reply,
        problem('shutting-down', 'this kubemend is stopping; call again (another replica answers)', {
          instance: request.id,
        }),
      );
    return undefined;
  };

  /** A readiness check: fails from the first moment of a stop. */
  readonly check = async (): Promise<void> => {
    if (this.phase !== 'serving') throw new Error('stopping (SIGTERM)');
  };

  /** Runs the stop once (a second call returns the first one's result). */
  stop(): Promise<StopReport> {
    this.running ??= this.run();
    return this.running;
  }

  private async run(): Promise<StopReport> {
    const { service, timeoutMs, delayMs } = this.options;
    const deadline = Date.now() + timeoutMs;
    this.phase = 'draining';
    await new Promise((resolve) => setTimeout(resolve, Math.min(delayMs, timeoutMs)));
    this.phase = 'closing';
    const closed = this.app.close();
    const report = await service.stop(deadline);
    // The deadline (or every execution and queued job done): cut whatever requests are left.
    const cut = setTimeout(() => this.app.server.closeAllConnections(), Math.max(0, deadline - Date.now()));
    try {
      await closed;
    } finally {
      clearTimeout(cut);
    }
    return report;
  }
}
