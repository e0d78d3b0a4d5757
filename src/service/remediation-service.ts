/**
 * The one orchestration entry: remediate(). Interfaces (CLI, HTTP, MCP) parse input, call this, and
 * translate errors. Offline, it analyses what the caller sent with the built-in rules and reports
 * which actions would run; with a cluster (later layers), it gathers live context and executes.
 */
import { randomUUID } from 'node:crypto';
import type { ExecutionResult, Mode, RemediateInput, RemediateOutput } from '../domain/index.js';
import { analyzeWithRules } from '../analysis/engine.js';
import type { LogSummary } from '../context/log-summary.js';
import { contextFromInput } from '../context/normalize.js';
import type { Configuration } from '../config/configuration.js';
import { type PolicySet, selectPolicy } from '../config/policies.js';
import { planRemediation } from '../planning/plan.js';

export interface ServiceDependencies {
  readonly configuration: Configuration;
  readonly policies: PolicySet;
  readonly clock?: () => Date;
  readonly newId?: () => string;
}

export interface RemediateOptions {
  /** A log summary computed while streaming the input; replaces `context.logs`. */
  readonly logs?: LogSummary;
}

export class RemediationService {
  private readonly dependencies: ServiceDependencies;
  private readonly clock: () => Date;
  private readonly newId: () => string;

  constructor(dependencies: ServiceDependencies) {
    this.dependencies = dependencies;
    this.clock = dependencies.clock ?? (() => new Date());
    this.newId = dependencies.newId ?? randomUUID;
  }

  async remediate(input: RemediateInput, options: RemediateOptions = {}): Promise<RemediateOutput> {
    const { policy, name: policyName } = selectPolicy(this.dependencies.policies, input.policy);
    const requestedMode: Mode = input.mode ?? 'manual';
    const context = contextFromInput(input, { logs: options.logs });
    const rules = analyzeWithRules(context);
    const plan = planRemediation({ finding: rules.finding, facts: rules.facts, policy, requestedMode });

    const notices: string[] = [
      'offline: analysed from the context in the request only; no cluster was consulted',
      'rules only: no AI provider is configured',
    ];
    if (policyName !== 'default') notices.push(`policy: ${policyName}`);
    const analysis = { ...rules.analysis, factors: [...rules.analysis.factors, ...plan.notes] };

    const now = this.clock().toISOString();
    const results: ExecutionResult[] = [];
    for (const action of plan.remediation.actions) {
      if (action.decision?.decision !== 'execute') continue;
      results.push({
        actionId: action.id,
        status: 'skipped',
        message: input.dryRun
          ? 'dry run requested and no cluster connected: nothing was changed'
          : `would execute now (${action.decision.reason}); not executed: no cluster connection (offline)`,
        startedAt: now,
        finishedAt: now,
      });
    }
    const waiting = plan.remediation.actions.some(
      (action) => action.decision?.decision === 'await-approval' || action.decision?.decision === 'execute',
    );
    return {
      status: waiting ? 'pending' : 'success',
      sessionId: input.sessionId ?? this.newId(),
      analysis,
      remediation: plan.remediation,
      executed: false,
      ...(results.length > 0 ? { results } : {}),
      notices,
    };
  }
}
