/**
 * MCP sessions over Streamable HTTP: each is an SDK transport and its own MCP server, bound to the
 * caller that initialised it. Bounded three ways (`server.mcpSessions`): a session that sees no
 * request for `idleTimeout` is closed (its client gets 404 and initialises again, as the MCP
 * specification expects); a caller holds at most `perCaller`; everyone together at most `max`. An
 * open `GET /mcp` event stream does not keep a session alive; a request being answered does.
 *
 * A session is also a record in the session store's database (ADR 0043): a request naming a
 * session this process does not hold — it was initialised before a restart, or by another replica
 * — rebuilds it from the record (the caller must be the same, and the session not idle past its
 * timeout), so clients keep their sessions across restarts and replicas. `DELETE /mcp` removes the
 * record; idle records are removed by the sweep.
 */
import { randomUUID } from 'node:crypto';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { Counter, Gauge, type Registry } from 'prom-client';
import { KubemendError } from '../../domain/index.js';
import type { McpSessionRecords } from '../../sessions/mcp-session-records.js';
import { type McpTransport, newMcpTransport, replayInitialize } from './mcp-transport.js';

export interface McpSessionLimits {
  readonly idleTimeoutMs: number;
  readonly perCaller: number;
  readonly max: number;
}

export interface McpSession {
  readonly id: string;
  readonly transport: McpTransport;
  readonly caller: string;
}

interface Entry extends McpSession {
  readonly server: McpServer;
  lastUsed: number;
  /** When the record's `lastUsedAt` was last written. */
  lastRecorded: number;
  /** Its record exists (written, or the one it was rebuilt from). */
  recorded: boolean;
  /** Requests being answered (event streams excluded). */
  busy: number;
}

export interface McpSessionsOptions {
  /** The sessions' records (the session store's); without them a session lives in this process only. */
  readonly records?: McpSessionRecords;
  /** A record could not be written or read (the session goes on in memory). */
  readonly onRecordError?: (action: string, error: unknown) => void;
  readonly now?: () => number;
}

export class McpSessions {
  private readonly sessions = new Map<string, Entry>();
  /** Initialisations under way, per caller: they count against the caps until they settle. */
  private readonly opening = new Map<string, number>();
  private openingTotal = 0;
  /** Sessions whose record is gone (ended on another replica): closed when no longer busy. */
  private readonly ended = new Set<string>();
  /** Sessions being rebuilt from their records (one rebuild per session at a time). */
  private readonly restoring = new Map<string, Promise<Entry>>();
  private readonly sweeper: NodeJS.Timeout;
  private readonly records: McpSessionRecords | undefined;
  private readonly now: () => number;
  /** How often a session in use writes its record's `lastUsedAt`. */
  private readonly recordEvery: number;
  private restoredCount = 0;

  constructor(
    private readonly limits: McpSessionLimits,
    private readonly options: McpSessionsOptions = {},
  ) {
    this.records = options.records;
    this.now = options.now ?? Date.now;
    this.recordEvery = Math.min(limits.idleTimeoutMs / 4, 60_000);
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
   * The caller's session `id`, marked in use until `done` is called; rebuilt from its record when
   * this process does not hold it. `session-not-found` when it is unknown or expired, `forbidden`
   * when it is another caller's, `too-many-sessions` when rebuilding it would pass a cap.
   */
  async use(
    id: string,
    caller: string,
    createServer: () => McpServer,
  ): Promise<{ session: McpSession; done: () => void }> {
    if (this.ended.has(id)) throw this.notFound(id);
    const entry = this.sessions.get(id) ?? (await this.restore(id, caller, createServer));
    if (entry.caller !== caller)
      throw new KubemendError('forbidden', 'this MCP session belongs to another caller');
    entry.lastUsed = this.now();
    entry.busy++;
    this.recordUse(entry);
    let done = false;
    return {
      session: entry,
      done: () => {
        if (done) return;
        done = true;
        entry.busy--;
        entry.lastUsed = this.now();
        if (entry.busy === 0 && this.ended.delete(entry.id)) void this.close(entry);
      },
    };
  }

  private notFound(id: string): KubemendError {
    return new KubemendError(
      'session-not-found',
      `MCP session ${id} is not known (it may have expired after ${Math.round(this.limits.idleTimeoutMs / 1000)} s idle); initialize again`,
    );
  }

  /** Rebuilds session `id` from its record (one rebuild at a time per session). */
  private async restore(id: string, caller: string, createServer: () => McpServer): Promise<Entry> {
    const records = this.records;
    if (!records) throw this.notFound(id);
    let restoring = this.restoring.get(id);
    if (!restoring) {
      restoring = (async () => {
        // Not idle past the timeout: the record was used more recently than any session this
        // process closed as idle (a record's time never runs ahead of the use it records).
        const record = await records
          .find(id, new Date(this.now() - this.limits.idleTimeoutMs).toISOString())
          .catch((error: unknown) => {
            this.options.onRecordError?.('read', error);
            return undefined;
          });
        if (!record) throw this.notFound(id);
        if (record.caller !== caller)
          throw new KubemendError('forbidden', 'this MCP session belongs to another caller');
        this.admit(caller);
        const server = createServer();
        const transport = this.transport(server, caller, { restoring: id });
        try {
          await server.connect(transport);
          await replayInitialize(transport, id, record.initialize);
        } catch (error) {
          this.sessions.delete(id);
          await server.close().catch(() => undefined);
          throw new KubemendError('internal', `MCP session ${id} could not be restored`, { cause: error });
        }
        this.restoredCount++;
        const entry = this.sessions.get(id)!;
        entry.busy--; // replayed; `use` marks it busy for the request that asked for it
        return entry;
      })().finally(() => this.restoring.delete(id));
      this.restoring.set(id, restoring);
    }
    return restoring;
  }

  /**
   * Writes the record's `lastUsedAt` now and then (not on every request). A recorded session whose
   * record is gone was ended elsewhere (`DELETE /mcp` on another replica): it closes here too,
   * once the request under way is answered.
   */
  private recordUse(entry: Entry): void {
    const now = this.now();
    if (!this.records || !entry.recorded || now - entry.lastRecorded < this.recordEvery) return;
    entry.lastRecorded = now;
    this.records
      .touch(entry.id, new Date(now).toISOString())
      .then((exists) => {
        if (exists || this.sessions.get(entry.id) !== entry) return;
        if (entry.busy === 0) void this.close(entry);
        else this.ended.add(entry.id);
      })
      .catch((error: unknown) => this.options.onRecordError?.('touch', error));
  }

  /**
   * A new session for `caller`, registered (and recorded) once the SDK has initialised it, with the
   * client's initialize `params`. Refused with `too-many-sessions` at either cap. Call `settle`
   * when the initialize request is answered.
   */
  async open(
    caller: string,
    createServer: () => McpServer,
    params: unknown,
  ): Promise<{ transport: McpTransport; settle: () => Promise<void> }> {
    this.admit(caller);
    this.opening.set(caller, (this.opening.get(caller) ?? 0) + 1);
    this.openingTotal++;
    const server = createServer();
    const transport = this.transport(server, caller, { params });
    let settled = false;
    const settle = async () => {
      if (settled) return;
      settled = true;
      const left = (this.opening.get(caller) ?? 1) - 1;
      if (left > 0) this.opening.set(caller, left);
      else this.opening.delete(caller);
      this.openingTotal--;
      const entry = transport.sessionId === undefined ? undefined : this.sessions.get(transport.sessionId);
      if (entry?.transport === transport) {
        entry.busy--;
        entry.lastUsed = this.now();
      }
      // An initialize that failed leaves no session behind.
      else await server.close().catch(() => undefined);
    };
    try {
      await server.connect(transport);
    } catch (error) {
      await settle();
      throw error;
    }
    return { transport, settle };
  }

  /**
   * A session's transport: a new session (its id generated, its record written before the
   * initialize is answered) or a restored one (the recorded id; the record exists).
   */
  private transport(
    server: McpServer,
    caller: string,
    how: { params: unknown } | { restoring: string },
  ): McpTransport {
    const transport: McpTransport = newMcpTransport({
      sessionId: () => ('restoring' in how ? how.restoring : randomUUID()),
      onInitialized: async (id) => {
        const now = this.now();
        const entry: Entry = {
          id,
          transport,
          caller,
          server,
          lastUsed: now,
          lastRecorded: now,
          recorded: 'restoring' in how,
          // Busy until its initialize is answered (or replayed): an idle sweep must not close a
          // session while its record is being written.
          busy: 1,
        };
        this.sessions.set(id, entry);
        if (!('params' in how) || !this.records) return;
        const initialize = recordable(how.params);
        if (initialize === undefined) {
          this.options.onRecordError?.('save', new Error('initialize params larger than 64 KB'));
          return;
        }
        const at = new Date(now).toISOString();
        await this.records
          .save({ id, caller, initialize, createdAt: at, lastUsedAt: at })
          .then(() => (entry.recorded = true))
          .catch((error: unknown) => this.options.onRecordError?.('save', error));
      },
      // DELETE /mcp: the session ends everywhere.
      onClosed: async (id) => {
        await this.records
          ?.remove(id)
          .catch((error: unknown) => this.options.onRecordError?.('remove', error));
      },
    });
    transport.onclose = () => {
      if (transport.sessionId && this.sessions.get(transport.sessionId)?.transport === transport)
        this.sessions.delete(transport.sessionId);
    };
    return transport;
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
    // Records: of sessions idle everywhere (another process may hold a session this one let go).
    await this.records
      ?.expire(new Date(cutoff).toISOString())
      .catch((error: unknown) => this.options.onRecordError?.('expire', error));
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
    this.ended.delete(entry.id);
    await entry.server.close().catch(() => undefined);
  }

  /** `kubemend_mcp_sessions`, read at scrape time. */
  register(registry: Registry): void {
    const size = () => this.sessions.size;
    const restored = () => this.restoredCount;
    new Counter({
      name: 'kubemend_mcp_sessions_restored_total',
      help: 'MCP sessions this replica rebuilt from their records (initialised before a restart or by another replica)',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(restored());
      },
    });
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

/**
 * What of a client's initialize params a record keeps: the three fields the MCP server reads
 * (protocol version, capabilities, client info), at most 64 KB of them; otherwise nothing (the
 * session then lives in this process only).
 */
function recordable(params: unknown): unknown {
  const { protocolVersion, capabilities, clientInfo } = (params ?? {}) as Record<string, unknown>;
  const kept = { protocolVersion, capabilities, clientInfo };
  return JSON.stringify(kept).length <= 64 * 1024 ? kept : undefined;
}
