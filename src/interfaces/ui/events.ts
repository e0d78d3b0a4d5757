/**
 * Live updates of a session page: server-sent events from `GET /ui/sessions/:id/events`.
 *
 * Each stream polls the session store (one read by id every `pollMs`) and sends an event when the
 * session's version changes, so it follows an execution run by any replica sharing the store.
 * It ends — and everything it holds is released exactly once — when the session leaves
 * approved/executing, when the client goes away, when the sign-in ends, after `maxLifeMs`, or
 * when the server closes. Streams are bounded in all (`ui.maxEventStreams`) and per sign-in.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SessionRecord } from '../../sessions/store.js';

const ACTIVE: readonly string[] = ['approved', 'executing'];

export interface StreamSource {
  /** The session now (undefined once it is gone). */
  load(): Promise<SessionRecord | undefined>;
  /** Whether the reader is still signed in. */
  signedIn(): boolean;
}

export interface EventStreamOptions {
  readonly max: number;
  readonly perOwner?: number;
  readonly pollMs?: number;
  readonly heartbeatMs?: number;
  readonly maxLifeMs?: number;
}

/** What an event tells the page: enough to know something moved (the page re-reads itself). */
function summary(session: SessionRecord): Record<string, unknown> {
  return {
    id: session.id,
    state: session.state,
    phase: session.phase,
    version: session.version,
    updatedAt: session.updatedAt,
    results: session.results.map((r) => ({ actionId: r.actionId, status: r.status, message: r.message })),
  };
}

export class EventStreams {
  private readonly closers = new Set<() => void>();
  private readonly perOwnerCount = new Map<string, number>();
  private readonly perOwner: number;
  private readonly pollMs: number;
  private readonly heartbeatMs: number;
  private readonly maxLifeMs: number;

  constructor(private readonly options: EventStreamOptions) {
    this.perOwner = options.perOwner ?? 8;
    this.pollMs = options.pollMs ?? 1_000;
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
    this.maxLifeMs = options.maxLifeMs ?? 30 * 60_000;
  }

  /** Streams open now. */
  get size(): number {
    return this.closers.size;
  }

  /** Whether another stream for `owner` may open. */
  admits(owner: string): boolean {
    return this.closers.size < this.options.max && (this.perOwnerCount.get(owner) ?? 0) < this.perOwner;
  }

  /** Takes over the response and streams until one of the ends above. */
  open(request: FastifyRequest, reply: FastifyReply, owner: string, source: StreamSource): void {
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-accel-buffering': 'no',
      'x-request-id': request.id,
    });
    raw.write('retry: 3000\n\n');
    this.perOwnerCount.set(owner, (this.perOwnerCount.get(owner) ?? 0) + 1);

    let closed = false;
    let poll: NodeJS.Timeout | undefined;
    let lastVersion = -1;
    const send = (event: string, data: unknown) => {
      if (!closed) raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const close = () => {
      if (closed) return;
      closed = true;
      clearTimeout(poll);
      clearInterval(heartbeat);
      clearTimeout(lifetime);
      this.closers.delete(close);
      const left = (this.perOwnerCount.get(owner) ?? 1) - 1;
      if (left > 0) this.perOwnerCount.set(owner, left);
      else this.perOwnerCount.delete(owner);
      raw.end();
    };
    const end = (reason: string) => {
      send('end', { reason });
      close();
    };
    const tick = async () => {
      if (closed) return;
      try {
        const session = await source.load();
        if (!session) return end('gone');
        if (!source.signedIn()) return end('signed-out');
        if (session.version !== lastVersion) {
          lastVersion = session.version;
          send('session', summary(session));
        }
        if (!ACTIVE.includes(session.state)) return end(session.state);
      } catch (error) {
        request.log.warn({ err: error }, 'ui event stream: could not read the session');
      }
      if (!closed) poll = setTimeout(() => void tick(), this.pollMs);
    };
    const heartbeat = setInterval(() => {
      if (!closed) raw.write(': keep-alive\n\n');
    }, this.heartbeatMs);
    const lifetime = setTimeout(() => end('time-limit'), this.maxLifeMs);
    this.closers.add(close);
    raw.on('close', close);
    raw.on('error', close);
    void tick();
  }

  /** Ends every stream (the server is closing). */
  closeAll(): void {
    for (const close of [...this.closers]) close();
  }
}
