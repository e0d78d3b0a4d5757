/**
 * A new request, from session to answer: open the session (idempotency), analyse read-only, let the
 * mode, policy and rate guard decide each action, record the analysis and every proposal, and
 * execute what may run now.
 */
import type { AuditEntry } from '../audit/recorder.js';
import {
  digest,
  executesUnattended,
  KubemendError,
  type Mode,
  type RemediateInput,
  type RemediateOutput,
} from '../domain/index.js';
import { selectPolicy } from '../config/policies.js';
import type { LogSummary } from '../context/log-summary.js';
import type { AlertIncidentEntry } from '../sessions/companions.js';
import type { SessionRecord } from '../sessions/store.js';
import type { ServiceContext, ServiceLogger } from './context.js';
import { decide, settle, settled } from './decide.js';
import { type ExecutionRequest, executeSession } from './execution-runner.js';
import { ExecutionLease } from './execution-lease.js';
import type { Phase, ProgressListener } from './phase.js';

export interface RemediateOptions {
  /** A log summary computed while streaming the input; replaces `context.logs`. */
  readonly logs?: LogSummary;
  /** Who asked (recorded in the audit log). */
  readonly actor?: string;
  /** `Idempotency-Key`: the same key and body returns the same session. */
  readonly idempotencyKey?: string;
  /** Hash of the request body, compared for replays under the same key. */
  readonly requestHash?: string;
  /** Progress of a long run (MCP progress notifications, async session phases). */
  readonly onProgress?: ProgressListener;
  /** May this caller execute (approve or run automatic/hybrid)? Defaults to true. */
  readonly canExecute?: boolean;
  /**
   * The alert that opens this session: its incident row commits with the session, and a second
   * session for the same incident fails with `session-conflict` (see src/alerts/receiver.ts).
   */
  readonly alert?: Omit<AlertIncidentEntry, 'sessionId'>;
}

/** Keep a stored request bounded: a huge log array is cut to its first and last lines. */
function storableInput(input: RemediateInput): RemediateInput {
  const logs = input.context?.logs;
  if (!logs || logs.length <= 400) return input;
  return {
    ...input,
    context: {
      ...input.context,
      logs: [...logs.slice(0, 100), `… ${logs.length - 300} lines omitted …`, ...logs.slice(-200)],
    },
  };
}

/**
 * The key a session is stored under: the caller's Idempotency-Key scoped to the caller (a digest of
 * both), so one caller's key never finds — or reveals — another caller's session.
 */
export function storedIdempotencyKey(ctx: ServiceContext, options: RemediateOptions): string | undefined {
  if (!options.idempotencyKey) return undefined;
  return `k1:${digest([ctx.actorOf(options), options.idempotencyKey])}`;
}

/** The caller's earlier session under its Idempotency-Key, if any. */
export async function findByIdempotencyKey(
  ctx: ServiceContext,
  options: RemediateOptions,
): Promise<SessionRecord | undefined> {
  const key = storedIdempotencyKey(ctx, options);
  return key ? ctx.sessions.findByIdempotencyKey(key) : undefined;
}

/** Idempotency: the same key and body returns the stored result; another body is an error. */
export async function replay(
  ctx: ServiceContext,
  options: RemediateOptions,
): Promise<RemediateOutput | undefined> {
  if (!options.idempotencyKey) return undefined;
  const existing = await findByIdempotencyKey(ctx, options);
  if (!existing) return undefined;
  if (options.requestHash && existing.requestHash && options.requestHash !== existing.requestHash) {
    throw new KubemendError(
      'idempotency-mismatch',
      `Idempotency-Key ${options.idempotencyKey} was used with a different request body`,
    );
  }
  if (!existing.output || existing.phase !== 'done') {
    throw new KubemendError(
      'session-conflict',
      `a request with Idempotency-Key ${options.idempotencyKey} is still in flight (session ${existing.id})`,
    );
  }
  return existing.output;
}

/**
 * What makes a request the caller's mistake, checked before anything is stored: an unknown policy,
 * an executing mode without the right to execute. (A refused request leaves no session behind.)
 */
export function checkRequest(ctx: ServiceContext, input: RemediateInput, options: RemediateOptions): void {
  selectPolicy(ctx.dependencies.policies, input.policy);
  const mode: Mode = input.mode ?? 'manual';
  // Shadow mode changes nothing (server-side dry-runs only): the analyze scope suffices.
  if (options.canExecute === false && executesUnattended(mode))
    throw new KubemendError(
      'forbidden',
      `mode: ${mode} executes changes and needs the remediate:execute scope`,
    );
}

export async function openSession(
  ctx: ServiceContext,
  input: RemediateInput,
  options: RemediateOptions,
  newId: () => string,
): Promise<SessionRecord> {
  const id = input.sessionId ?? newId();
  const actor = ctx.actorOf(options);
  try {
    // The session and its first audit record commit together. It names this process as its
    // owner: if the process dies before answering, reconciliation settles it once the lease lapses.
    return await ctx.sessions.create(
      {
        id,
        state: 'analyzed',
        phase: 'queued',
        createdAt: ctx.now(),
        actor,
        input: storableInput(input),
        approvals: [],
        results: [],
        idempotencyKey: storedIdempotencyKey(ctx, options),
        requestHash: options.requestHash,
        owner: ctx.instanceId,
        ...(ctx.clusterName !== undefined ? { cluster: ctx.clusterName } : {}),
      },
      {
        audit: [createdRecord(input, options, id, actor)],
        ...(options.alert ? { alertIncident: { ...options.alert, sessionId: id } } : {}),
      },
    );
  } catch (error) {
    if (error instanceof KubemendError && error.code === 'session-conflict' && options.idempotencyKey) {
      throw new KubemendError(
        'session-conflict',
        `a request with Idempotency-Key ${options.idempotencyKey} is already in flight`,
      );
    }
    throw error;
  }
}

/** The first audit record of a session. */
function createdRecord(
  input: RemediateInput,
  options: RemediateOptions,
  sessionId: string,
  actor: string,
): AuditEntry {
  return {
    type: 'session.created',
    actor,
    sessionId,
    detail: {
      mode: input.mode ?? 'manual',
      policy: input.policy ?? 'default',
      dryRun: input.dryRun === true,
      ...(options.alert ? { alert: options.alert.fingerprint, alertname: options.alert.alertname } : {}),
    },
  };
}

/**
 * Analyse, decide, record and (as mode and policy allow) execute an opened session. The session is
 * this process's while it works (`ctx.inFlight`, and a lease renewed during a long analysis).
 */
export async function processRequest(
  ctx: ServiceContext,
  opened: SessionRecord,
  input: RemediateInput,
  options: RemediateOptions,
  background = false,
): Promise<RemediateOutput> {
  ctx.inFlight.add(opened.id);
  const lease = new ExecutionLease(ctx.sessions, opened, ctx.leaseMs);
  try {
    const decided = await analyseAndDecide(ctx, lease, input, options, background);
    if ('output' in decided) return decided.output;
    await lease.release();
    return await executeSession(ctx, decided.execution);
  } finally {
    await lease.release();
    ctx.inFlight.delete(opened.id);
  }
}

async function analyseAndDecide(
  ctx: ServiceContext,
  lease: ExecutionLease,
  input: RemediateInput,
  options: RemediateOptions,
  background: boolean,
): Promise<{ output: RemediateOutput } | { execution: ExecutionRequest }> {
  checkRequest(ctx, input, options);
  const cluster = ctx.cluster();
  const firstPhase: Phase = cluster ? 'gathering' : 'analyzing';
  const firstMessage = cluster ? 'reading the cluster' : 'analysing';
  options.onProgress?.(firstPhase, firstMessage);
  // A synchronous caller waits for the answer; only an asynchronous one polls the phase.
  if (background) await lease.write({ phase: firstPhase });
  const sessionId = lease.session.id;
  const decision = await decide(ctx, input, options, sessionId);
  const { records, baseOutput, planHash, toExecute } = decision;

  if (!cluster || toExecute.length === 0) {
    const { output, state } = settle(ctx, input, decision);
    await lease.write(
      { state, output, planHash, phase: 'done', results: output.results ?? [], owner: undefined },
      records,
    );
    settled(ctx, options, decision, state);
    return { output };
  }

  // Shadow mode's dry-runs change nothing: a broken audit chain refuses only real changes.
  if (!decision.shadow) ctx.integrity.assertMayExecute();
  const executing = await lease.transition(
    ['analyzed'],
    'executing',
    { output: baseOutput, planHash, owner: ctx.instanceId, phase: 'executing' },
    records,
  );
  return {
    execution: {
      session: executing,
      output: baseOutput,
      actions: toExecute,
      policy: decision.policy,
      actor: decision.actor,
      dryRun: input.dryRun === true,
      shadow: decision.shadow,
      onProgress: options.onProgress,
    },
  };
}

/**
 * May this request be answered with one write? Without a cluster nothing can execute, so nothing
 * needs the session stored before the answer: no lease to hold, no execution to reconcile, no
 * phase to poll. The session, its creation record, the analysis and every proposal then commit
 * together once the answer is ready (ADR 0042). A request that names its session, carries an
 * Idempotency-Key or comes from an alert keeps the session opened first: those must find — or
 * refuse — a concurrent twin before the work starts.
 */
export function answersInOneWrite(
  ctx: ServiceContext,
  input: RemediateInput,
  options: RemediateOptions,
): boolean {
  return (
    ctx.cluster() === undefined &&
    input.sessionId === undefined &&
    options.idempotencyKey === undefined &&
    options.alert === undefined
  );
}

/** Analyses a request `answersInOneWrite` allows and stores the session once, answered. */
export async function answerInOneWrite(
  ctx: ServiceContext,
  input: RemediateInput,
  options: RemediateOptions,
  newId: () => string,
): Promise<RemediateOutput> {
  const id = newId();
  const createdAt = ctx.now();
  options.onProgress?.('analyzing', 'analysing');
  const decision = await decide(ctx, input, options, id);
  const { output, state } = settle(ctx, input, decision);
  await ctx.sessions.create(
    {
      id,
      state,
      phase: 'done',
      createdAt,
      actor: decision.actor,
      input: storableInput(input),
      output,
      planHash: decision.planHash,
      approvals: [],
      results: output.results ?? [],
      ...(ctx.clusterName !== undefined ? { cluster: ctx.clusterName } : {}),
    },
    { audit: [createdRecord(input, options, id, decision.actor), ...decision.records] },
  );
  settled(ctx, options, decision, state);
  return output;
}

/**
 * A request failed before it was answered: record it and — if it is still an unanswered
 * analysis (nothing executed) — end the session failed and release its Idempotency-Key, in one
 * transaction, so a retry runs again instead of waiting for a session that will never answer.
 * An execution that failed half-way is left to reconciliation, which restores its snapshots.
 * A background failure is also logged (nobody waits for it).
 */
export async function recordRequestFailure(
  ctx: ServiceContext,
  logger: ServiceLogger,
  failure: { sessionId: string; error: unknown; actor: string; background: boolean },
): Promise<void> {
  const { sessionId, error, actor, background } = failure;
  const message = error instanceof Error ? error.message : String(error);
  if (background)
    logger.error({ session: sessionId, err: error }, `background remediation failed: ${message}`);
  try {
    const current = await ctx.sessions.get(sessionId);
    const unanswered = current?.state === 'analyzed' && current.phase !== 'done';
    const record = {
      type: 'session.failed' as const,
      actor,
      sessionId,
      detail: {
        error: message,
        ...(error instanceof KubemendError ? { code: error.code } : {}),
        phase: current?.phase,
        markedFailed: unanswered,
        ...(unanswered && current.idempotencyKey ? { idempotencyKeyReleased: true } : {}),
      },
    };
    if (unanswered)
      await ctx.sessions.update(
        current.id,
        current.version,
        { phase: 'done', state: 'failed', owner: undefined, idempotencyKey: undefined },
        { audit: [record] },
      );
    else await ctx.audit.record(record);
  } catch (cause) {
    // Reconciliation settles the session once its lease lapses.
    logger.error({ session: sessionId, err: cause }, 'could not record the failed remediation');
  }
}
