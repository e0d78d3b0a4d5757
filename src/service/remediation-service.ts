/**
 * The one orchestration entry: remediate(). Interfaces (CLI, HTTP, MCP) parse input, call this, and
 * translate errors. Without a cluster it analyses what the caller sent and reports which actions
 * would run. With a cluster it gathers live context (read-only), analyses, plans, and executes what
 * the mode and policy allow through the execution engine — dry-run, apply with precondition,
 * verify, roll back — auditing every step.
 */
import { randomUUID } from 'node:crypto';
import type {
  ExecutionResult,
  Mode,
  RemediateInput,
  RemediateOutput,
  RemediationAction,
} from '../domain/index.js';
import { KubemendError } from '../domain/index.js';
import { analyzeWithRules } from '../analysis/engine.js';
import type { AuditRecorder } from '../audit/recorder.js';
import { InMemoryAuditRecorder } from '../audit/recorder.js';
import type { ClusterGateway } from '../cluster/gateway.js';
import { gatherLiveContext, type LiveContext } from '../context/live.js';
import type { LogSummary } from '../context/log-summary.js';
import { contextFromInput } from '../context/normalize.js';
import type { Configuration } from '../config/configuration.js';
import { type PolicySet, selectPolicy } from '../config/policies.js';
import { ExecutionEngine } from '../execution/engine.js';
import { TargetLocks } from '../execution/locks.js';
import { parseDuration, type Policy } from '../planning/policy.js';
import { planRemediation } from '../planning/plan.js';

export interface ServiceDependencies {
  readonly configuration: Configuration;
  readonly policies: PolicySet;
  /** The cluster, when one is reachable; absent means offline. */
  readonly cluster?: ClusterGateway;
  readonly audit?: AuditRecorder;
  readonly locks?: TargetLocks;
  /** Who acts (recorded in the audit log). */
  readonly actor?: string;
  readonly clock?: () => Date;
  readonly newId?: () => string;
  /** Execution engine tuning (tests shorten the stability window). */
  readonly engine?: { readonly pollIntervalMs?: number; readonly stabilityMs?: number };
}

export interface RemediateOptions {
  /** A log summary computed while streaming the input; replaces `context.logs`. */
  readonly logs?: LogSummary;
  /** Who asked (recorded in the audit log); defaults to the service's actor. */
  readonly actor?: string;
}

/** Per-target cooldown and per-hour action budget (policy `cooldown`, `maxActionsPerHour`). */
class ActionRateGuard {
  private readonly lastChange = new Map<string, number>();
  private readonly recent: number[] = [];

  check(action: RemediationAction, policy: Policy, now: number): string | undefined {
    const key = `${action.target.kind}/${action.target.namespace ?? ''}/${action.target.name}`;
    const last = this.lastChange.get(key);
    const cooldown = parseDuration(policy.cooldown);
    if (last !== undefined && now - last < cooldown)
      return `${key} was changed ${Math.round((now - last) / 1000)}s ago; the policy's cooldown is ${policy.cooldown}`;
    while (this.recent.length > 0 && now - this.recent[0]! > 3_600_000) this.recent.shift();
    if (this.recent.length >= policy.maxActionsPerHour)
      return `the policy allows ${policy.maxActionsPerHour} actions per hour`;
    return undefined;
  }

  note(action: RemediationAction, now: number): void {
    this.lastChange.set(`${action.target.kind}/${action.target.namespace ?? ''}/${action.target.name}`, now);
    this.recent.push(now);
  }
}

export class RemediationService {
  private readonly dependencies: ServiceDependencies;
  private readonly clock: () => Date;
  private readonly newId: () => string;
  private readonly audit: AuditRecorder;
  private readonly locks: TargetLocks;
  private readonly rate = new ActionRateGuard();

  constructor(dependencies: ServiceDependencies) {
    this.dependencies = dependencies;
    this.clock = dependencies.clock ?? (() => new Date());
    this.newId = dependencies.newId ?? randomUUID;
    this.audit = dependencies.audit ?? new InMemoryAuditRecorder(this.clock);
    this.locks = dependencies.locks ?? new TargetLocks();
  }

  get auditRecorder(): AuditRecorder {
    return this.audit;
  }

  async remediate(input: RemediateInput, options: RemediateOptions = {}): Promise<RemediateOutput> {
    if (input.approve || (input.sessionId && !input.context && !input.issue.trim())) {
      throw new KubemendError(
        'session-not-found',
        `sessionId: session ${input.sessionId ?? ''} is not known to this process (approvals need the serving mode with a session store)`,
      );
    }
    const { policy, name: policyName } = selectPolicy(this.dependencies.policies, input.policy);
    const requestedMode: Mode = input.mode ?? 'manual';
    const actor = options.actor ?? this.dependencies.actor ?? 'kubemend';
    const sessionId = input.sessionId ?? this.newId();
    const cluster = this.dependencies.configuration.cluster.offline ? undefined : this.dependencies.cluster;
    const notices: string[] = [];

    let live: LiveContext | undefined;
    if (cluster) {
      live = await gatherLiveContext(cluster, input, {
        timeoutMs: this.dependencies.configuration.cluster.gatherTimeoutMs,
        maxApiCalls: this.dependencies.configuration.cluster.maxApiCalls,
      });
      notices.push(
        `live: read ${live.pods.length} pod(s), ${live.objects.length} object(s), ${live.events.length} event(s) in ${live.report.apiCalls} API call(s), ${live.report.durationMs} ms${live.report.partial ? ' (partial)' : ''}`,
      );
    } else {
      notices.push('offline: analysed from the context in the request only; no cluster was consulted');
    }
    notices.push('rules only: no AI provider is configured');
    if (policyName !== 'default') notices.push(`policy: ${policyName}`);

    const context = contextFromInput(input, { logs: options.logs, live });
    const rules = analyzeWithRules(context);
    const plan = planRemediation({ finding: rules.finding, facts: rules.facts, policy, requestedMode });
    const analysis = { ...rules.analysis, factors: [...rules.analysis.factors, ...plan.notes] };

    await this.audit.record({
      type: 'session.created',
      actor,
      sessionId,
      detail: { mode: plan.mode, policy: policyName, live: Boolean(cluster), dryRun: input.dryRun === true },
    });
    await this.audit.record({
      type: 'analysis.completed',
      actor,
      sessionId,
      detail: { category: analysis.category, confidence: analysis.confidence, source: analysis.source },
    });
    const now = this.clock().getTime();
    const actions = plan.remediation.actions.map((action) => {
      if (action.decision?.decision !== 'execute') return action;
      const blocked = this.rate.check(action, policy, now);
      return blocked
        ? { ...action, decision: { decision: 'await-approval' as const, reason: blocked } }
        : action;
    });
    for (const action of actions) {
      await this.audit.record({
        type: action.decision?.decision === 'denied' ? 'policy.denied' : 'action.proposed',
        actor,
        sessionId,
        actionId: action.id,
        target: `${action.target.kind}/${action.target.namespace ? `${action.target.namespace}/` : ''}${action.target.name}`,
        detail: { type: action.type, risk: action.risk, decision: action.decision },
      });
    }
    const remediation = { ...plan.remediation, actions };
    const toExecute = actions.filter((action) => action.decision?.decision === 'execute');
    const waiting = actions.some((action) => action.decision?.decision === 'await-approval');

    if (!cluster) {
      const stamp = this.clock().toISOString();
      const results: ExecutionResult[] = toExecute.map((action) => ({
        actionId: action.id,
        status: 'skipped',
        message: input.dryRun
          ? 'dry run requested and no cluster connected: nothing was changed'
          : `would execute now (${action.decision?.reason ?? ''}); not executed: no cluster connection (offline)`,
        startedAt: stamp,
        finishedAt: stamp,
      }));
      return {
        status: waiting || toExecute.length > 0 ? 'pending' : 'success',
        sessionId,
        analysis,
        remediation,
        executed: false,
        ...(results.length > 0 ? { results } : {}),
        notices,
      };
    }

    let results: ExecutionResult[] = [];
    let failed = false;
    let executed = false;
    if (toExecute.length > 0) {
      const engine = new ExecutionEngine({
        gateway: cluster,
        audit: this.audit,
        locks: this.locks,
        actor,
        clock: this.clock,
        ...this.dependencies.engine,
      });
      const outcome = await engine.run({
        sessionId,
        actions: toExecute,
        dryRun: input.dryRun === true,
        verifyTimeoutMs: parseDuration(policy.verifyTimeout),
      });
      results = outcome.results;
      failed = outcome.outcome === 'failed' || outcome.outcome === 'rolled-back';
      executed = outcome.changedCluster;
      for (const result of results) {
        const action = toExecute.find((a) => a.id === result.actionId);
        if (
          action &&
          (result.status === 'verified' || result.status === 'rolled-back' || result.status === 'applied')
        )
          this.rate.note(action, this.clock().getTime());
      }
    }
    // An action another session holds the lock for did not run: it still waits.
    const locked = results.some(
      (result) => result.status === 'skipped' && /another remediation/.test(result.message),
    );
    await this.audit.record({
      type: 'session.completed',
      actor,
      sessionId,
      detail: { failed, executed, results: results.map((r) => ({ id: r.actionId, status: r.status })) },
    });
    return {
      status: failed ? 'failed' : waiting || locked ? 'pending' : 'success',
      sessionId,
      analysis,
      remediation,
      executed,
      ...(results.length > 0 ? { results } : {}),
      notices,
    };
  }
}
