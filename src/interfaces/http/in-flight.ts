/**
 * `server.maxInFlight`, the last line of load shedding: API and MCP requests processed at once.
 * A request takes a slot in `onRequest` and gives it back exactly once, when its response closes —
 * sent, or the client gone first (an upload cut off mid-body, an event stream closed). `GET /mcp`
 * event streams hold no slot: they are idle most of their life and are bounded by the MCP session
 * caps instead. Saturation that lasts is reported by /readyz (ADR 0021).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Gauge, type Registry } from 'prom-client';
import { problem } from './problem.js';

/** In-flight at the limit for this long, without a moment below it: /readyz says not ready. */
export const SATURATION_NOT_READY_MS = 60_000;

export class InFlightLimit {
  private count = 0;
  private saturatedSince: number | undefined;

  constructor(
    readonly max: number,
    private readonly now: () => number = Date.now,
  ) {}

  get current(): number {
    return this.count;
  }

  /** Whether the request counts: the API and MCP, except the long-lived `GET /mcp` stream. */
  static counts(request: FastifyRequest): boolean {
    const path = request.url;
    if (path.startsWith('/v1/')) return true;
    return (path === '/mcp' || path.startsWith('/mcp?')) && request.method !== 'GET';
  }

  /** Takes a slot, given back when the response closes; false when every slot is taken. */
  admit(reply: FastifyReply): boolean {
    if (this.count >= this.max) return false;
    this.count++;
    if (this.count >= this.max) this.saturatedSince ??= this.now();
    let released = false;
    reply.raw.once('close', () => {
      if (released) return;
      released = true;
      this.count--;
      if (this.count < this.max) this.saturatedSince = undefined;
    });
    return true;
  }

  /** How long every slot has been taken without a break (0 when not saturated). */
  saturatedForMs(): number {
    return this.saturatedSince === undefined ? 0 : this.now() - this.saturatedSince;
  }

  /** A readiness check: fails once saturation has lasted `SATURATION_NOT_READY_MS`. */
  async check(): Promise<void> {
    const saturated = this.saturatedForMs();
    if (saturated >= SATURATION_NOT_READY_MS)
      throw new Error(
        `all ${this.max} in-flight slots taken for ${Math.round(saturated / 1000)} s (server.maxInFlight)`,
      );
  }

  refusal(instance: string) {
    return problem('rate-limited', `more than ${this.max} requests in flight; retry shortly`, { instance });
  }

  /** `kubemend_http_in_flight` and its limit, read at scrape time. */
  register(registry: Registry): void {
    const count = () => this.count;
    new Gauge({
      name: 'kubemend_http_in_flight',
      help: 'API and MCP requests being processed (GET /mcp event streams excluded)',
      registers: [registry],
      collect() {
        this.set(count());
      },
    });
    const max = this.max;
    new Gauge({
      name: 'kubemend_http_in_flight_limit',
      help: 'server.maxInFlight',
      registers: [registry],
      collect() {
        this.set(max);
      },
    });
  }
}
