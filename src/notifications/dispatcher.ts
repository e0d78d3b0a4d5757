/**
 * Delivers the outbox: every `pollInterval`, claim the due messages (a lease of `2 × timeout`, so
 * another replica takes a message over only if this one died with it), send each to its sink, mark
 * it delivered — or back off (`initialBackoff` doubled per attempt up to `maxBackoff`) and give it
 * up after `maxAttempts`. A sink that stays down only delays its own messages: remediation never
 * waits on a notification. Delivery is at least once; the document's id is the idempotency id.
 */
import { randomUUID } from 'node:crypto';
import type { NotificationsSection } from '../config/alerts.js';
import { durationMs as parseDurationMs } from '../config/server.js';
import type { OutboxMessage } from '../sessions/companions.js';
import type { SessionStore } from '../sessions/store.js';
import { notificationDocument } from './document.js';
import { type Sink, sinkFrom } from './sinks.js';

export interface DispatcherLogger {
  warn(detail: Record<string, unknown>, message: string): void;
  error(detail: Record<string, unknown>, message: string): void;
}

export interface DispatcherOptions {
  readonly sessions: SessionStore;
  readonly section: NotificationsSection;
  /** Sinks by name (default: built from the section). */
  readonly sinks?: readonly Sink[];
  readonly logger?: DispatcherLogger;
  readonly owner?: string;
  readonly clock?: () => Date;
  /** Messages claimed per round. */
  readonly batch?: number;
}

export class NotificationDispatcher {
  private readonly sinks: Map<string, Sink>;
  private readonly owner: string;
  private readonly clock: () => Date;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private logger: DispatcherLogger | undefined;

  constructor(private readonly options: DispatcherOptions) {
    this.sinks = new Map(
      (options.sinks ?? options.section.sinks.map((config) => sinkFrom(config))).map((sink) => [
        sink.name,
        sink,
      ]),
    );
    this.owner = options.owner ?? `dispatcher-${randomUUID().slice(0, 8)}`;
    this.clock = options.clock ?? (() => new Date());
    this.logger = options.logger;
  }

  /** Polls until `stop`, reporting failed attempts to `logger` (default: the options'). */
  start(logger?: DispatcherLogger): void {
    if (logger) this.logger = logger;
    if (this.sinks.size === 0 || this.timer) return;
    const interval = parseDurationMs(this.options.section.pollInterval);
    const tick = () => {
      if (this.stopped) return;
      this.running = this.round()
        .then(() => undefined)
        .catch((error: unknown) => this.logger?.error({ err: error }, 'notification round failed'))
        .finally(() => {
          this.running = undefined;
          if (!this.stopped) this.timer = setTimeout(tick, interval);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One round: claim what is due, deliver it. Returns how many were delivered. */
  async round(): Promise<number> {
    const { section } = this.options;
    const timeoutMs = parseDurationMs(section.timeout);
    const now = this.clock();
    const claimed = await this.options.sessions.outbox.claim(
      this.owner,
      now.toISOString(),
      new Date(now.getTime() + 2 * timeoutMs).toISOString(),
      this.options.batch ?? 20,
    );
    const delivered = await Promise.all(claimed.map((message) => this.deliver(message, timeoutMs)));
    return delivered.filter(Boolean).length;
  }

  private async deliver(message: OutboxMessage, timeoutMs: number): Promise<boolean> {
    const { sessions, section } = this.options;
    const sink = this.sinks.get(message.sink);
    const session = await sessions.get(message.sessionId);
    if (!sink || !session) {
      await this.giveUp(
        message,
        !sink ? `no sink named ${message.sink} is configured` : 'the session is gone',
      );
      return false;
    }
    try {
      await sink.send(notificationDocument(message, session, section.publicUrl), timeoutMs);
      await sessions.outbox.delivered(message.id, this.owner, this.clock().toISOString());
      return true;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const dead = message.attempts >= section.maxAttempts;
      const backoff = Math.min(
        parseDurationMs(section.maxBackoff),
        parseDurationMs(section.initialBackoff) * 2 ** Math.max(0, message.attempts - 1),
      );
      await sessions.outbox.retry(message.id, this.owner, {
        at: new Date(this.clock().getTime() + backoff).toISOString(),
        error: reason,
        dead,
      });
      this.logger?.warn(
        {
          sink: message.sink,
          session: message.sessionId,
          event: message.event,
          attempt: message.attempts,
          err: reason,
        },
        dead ? 'notification given up' : 'notification failed; will retry',
      );
      return false;
    }
  }

  private async giveUp(message: OutboxMessage, reason: string): Promise<void> {
    await this.options.sessions.outbox.retry(message.id, this.owner, {
      at: this.clock().toISOString(),
      error: reason,
      dead: true,
    });
    this.logger?.warn({ sink: message.sink, session: message.sessionId }, `notification dropped: ${reason}`);
  }
}
