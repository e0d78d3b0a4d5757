/**
 * MCP sessions over Streamable HTTP, held in memory by this replica: each is an SDK transport and
 * its own MCP server, bound to the caller that initialised it. Bounded three ways
 * (`server.mcpSessions`): a session that sees no request for `idleTimeout` is closed (its client
 * gets 404 and initialises again, as the MCP specification expects); a caller holds at most
 * `perCaller`; everyone together at most `max`. An open `GET /mcp` event stream does not keep a
 * session alive; a request being answered does.
 */
import { randomUUID } from 'node:crypto';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { Gauge, type Registry } from 'prom-client';
import { KubemendError } from '../../domain/index.js';

export interface McpSessionLimits {
  readonly idleTimeoutMs: number;
  readonly perCaller: number;
  readonly max: number;
}

export interface McpSession {
  readonly id: string;
  readonly transport: StreamableHTTPServerTransport;
  readonly caller: string;
}

interface Entry extends McpSession {
  readonly server: McpServer;
  lastUsed: number;
  /** Requests being answered (event streams excluded). */
  busy: number;
}

export class McpSessions {
  private readonly sessions = new Map<string, Entry>();
  /** Initialisations under way, per caller: they count against the caps until they settle. */
  private readonly opening = new Map<string, number>();
  private openingTotal = 0;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly limits: McpSessionLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.sweeper = setInterval(
      () => void this.expire(),
      Math.max(50, Math.min(limits.idleTimeoutMs / 2, 60_000)),
    );
    this.sweeper.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  /**
   * The caller's session `id`, marked in use until `done` is called; `session-not-found` when it is
   * unknown or expired, `forbidden` when it is another caller's.
   */
  use(id: string, caller: string): { session: McpSession; done: () => void } {
    const entry = this.sessions.get(id);
    if (!entry)
      throw new KubemendError(
        'session-not-found',
        `MCP session ${id} is not known (it may have expired after ${Math.round(this.limits.idleTimeoutMs / 1000)} s idle); initialize again`,
      );
    if (entry.caller !== caller)
      throw new KubemendError('forbidden', 'this MCP session belongs to another caller');
    entry.lastUsed = this.now();
    entry.busy++;
    let done = false;
    return {
      session: entry,
      done: () => {
        if (done) return;
        done = true;
        entry.busy--;
        entry.lastUsed = this.now();
      },
    };
  }

  /** Watches a GET event stream: it does not make the session busy, but its start counts as use. */
  touch(id: string): void {
    const entry = this.sessions.get(id);
    if (entry) entry.lastUsed = this.now();
  }

  /**
   * A new session for `caller`, registered once the SDK has initialised it. Refused with
   * `too-many-sessions` at either cap. Call `settle` when the initialize request is answered.
   */
  async open(
    caller: string,
    createServer: () => McpServer,
  ): Promise<{ transport: StreamableHTTPServerTransport; settle: () => Promise<void> }> {
    this.admit(caller);
    this.opening.set(caller, (this.opening.get(caller) ?? 0) + 1);
    this.openingTotal++;
    const server = createServer();
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        this.sessions.set(id, { id, transport, caller, server, lastUsed: this.now(), busy: 0 });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) this.sessions.delete(transport.sessionId);
    };
    let settled = false;
    const settle = async () => {
      if (settled) return;
      settled = true;
      const left = (this.opening.get(caller) ?? 1) - 1;
      if (left > 0) this.opening.set(caller, left);
      else this.opening.delete(caller);
      this.openingTotal--;
      // An initialize that failed leaves no session behind.
      if (!transport.sessionId || !this.sessions.has(transport.sessionId))
        await server.close().catch(() => undefined);
    };
    try {
      await server.connect(transport);
    } catch (error) {
      await settle();
      throw error;
    }
    return { transport, settle };
  }

  private admit(caller: string): void {
    let own = this.opening.get(caller) ?? 0;
    for (const entry of this.sessions.values()) if (entry.caller === caller) own++;
    if (own >= this.limits.perCaller)
      throw new KubemendError(
        'too-many-sessions',
        `${caller} holds ${own} MCP sessions, the limit per caller (server.mcpSessions.perCaller); end one with DELETE /mcp, or let idle ones expire after ${Math.round(this.limits.idleTimeoutMs / 1000)} s`,
      );
    const all = this.sessions.size + this.openingTotal;
    if (all >= this.limits.max)
      throw new KubemendError(
        'too-many-sessions',
        `${all} MCP sessions are open, the limit of this server (server.mcpSessions.max); try again when idle sessions have expired`,
      );
  }

  /** Closes every session idle for longer than the timeout. */
  async expire(): Promise<void> {
    const cutoff = this.now() - this.limits.idleTimeoutMs;
    const idle = [...this.sessions.values()].filter((entry) => entry.busy === 0 && entry.lastUsed <= cutoff);
    await Promise.all(idle.map((entry) => this.close(entry)));
  }

  /**
   * Stopping: ends every event stream and closes the sessions not answering a request now; those
   * that are finish their request first (`closeAll` closes them).
   */
  async drain(): Promise<void> {
    for (const entry of this.sessions.values()) entry.transport.closeStandaloneSSEStream();
    await Promise.all(
      [...this.sessions.values()].filter((entry) => entry.busy === 0).map((entry) => this.close(entry)),
    );
  }

  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all([...this.sessions.values()].map((entry) => this.close(entry)));
  }

  private async close(entry: Entry): Promise<void> {
    this.sessions.delete(entry.id);
    await entry.server.close().catch(() => undefined);
  }

  /** `kubemend_mcp_sessions`, read at scrape time. */
  register(registry: Registry): void {
    const size = () => this.sessions.size;
    new Gauge({
      name: 'kubemend_mcp_sessions',
      help: 'Open MCP sessions (Streamable HTTP) on this replica',
      registers: [registry],
      collect() {
        this.set(size());
      },
    });
  }
}
