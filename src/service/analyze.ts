/**
 * Analysis of one request, read-only: gather live context (when a cluster is connected), run the
 * rules, consult the AI analyzer (when configured) for what rules cannot explain, and plan typed
 * actions under the policy. Nothing here changes the cluster.
 */
import type { Analysis, Mode, RemediateInput, Remediation } from '../domain/index.js';
import { analyzeWithRules, evaluateRules, type RuleAnalysis } from '../analysis/engine.js';
import type { AiAnalyzer, AiBudget, AiFinding, AiUsage } from '../analysis/ai/port.js';
import type { ClusterGateway } from '../cluster/gateway.js';
import type { Configuration } from '../config/configuration.js';
import { gatherLiveContext, type LiveContext } from '../context/live.js';
import type { LogSummary } from '../context/log-summary.js';
import { contextFromInput } from '../context/normalize.js';
import { type Policy, protectedNamespaces } from '../planning/policy.js';
import type { Finding } from '../analysis/finding.js';
import { planRemediation } from '../planning/plan.js';
import type { HistorySection } from '../planning/history-stage.js';
import type { OutcomeHistory } from '../learning/history.js';
import type { Phase } from './phase.js';
import { chooseTarget } from './target.js';

/** The AI analyzer with the policy for merging its answer (wired by the composition root). */
export interface AiIntegration {
  readonly analyzer: AiAnalyzer;
  readonly budget: AiBudget;
  /**
   * Merge the model's finding into the rules' analysis: the merged analysis, the finding to plan
   * with, and the model's proposals to plan (none when its diagnosis was not adopted).
   */
  merge(
    rules: RuleAnalysis,
    finding: AiFinding,
  ): { analysis: Analysis; finding: Finding; extraDrafts: AiFinding['proposals'] };
}

export interface AnalyzeDependencies {
  readonly configuration: Configuration;
  readonly cluster?: ClusterGateway;
  readonly ai?: AiIntegration;
  /** Reads the outcome history for a category before planning (docs/learning.md). */
  readonly history?: (category: Finding['category']) => Promise<OutcomeHistory | undefined>;
  /** Scan tuning for a namespace scan that chooses the target (tests). */
  readonly scan?: { readonly settleMs?: number };
}

export interface AnalyzeOptions {
  readonly logs?: LogSummary;
  readonly policy: Policy;
  readonly policyName: string;
  readonly requestedMode: Mode;
  readonly onPhase?: (phase: Phase, message: string) => void;
}

export interface AnalyzedRequest {
  readonly analysis: Analysis;
  readonly remediation: Remediation;
  readonly mode: Mode;
  readonly notices: string[];
  /** The outcome history the plan used, and its effects. */
  readonly history?: HistorySection;
  /** The analysis could not be done (nothing told kubemend what the issue is about). */
  readonly failed?: boolean;
  readonly ai?: {
    readonly provider: string;
    readonly model: string;
    readonly usage: AiUsage;
    readonly ok: boolean;
    readonly reason?: string;
  };
}

/** Marks the refused namespaces the policy protects: there, kubemend is not meant to have access. */
function withPolicyProtection(live: LiveContext, policy: Policy): LiveContext {
  const protectedSet = protectedNamespaces(policy);
  return {
    ...live,
    report: {
      ...live.report,
      denied: live.report.denied.map((denial) =>
        protectedSet.has(denial.namespace) ? { ...denial, protectedByPolicy: true } : denial,
      ),
    },
  };
}

export async function analyzeRequest(
  dependencies: AnalyzeDependencies,
  request: RemediateInput,
  options: AnalyzeOptions,
): Promise<AnalyzedRequest> {
  const notices: string[] = [];
  const step = await chooseTarget(dependencies.cluster, request, {
    policy: options.policy,
    scan: dependencies.scan,
    onProgress: (message) => options.onPhase?.('gathering', message),
  });
  if (step.answer) {
    if (options.policyName !== 'default') notices.push(`policy: ${options.policyName}`);
    return {
      analysis: step.answer.analysis,
      remediation: step.answer.remediation,
      mode: options.requestedMode,
      notices,
      ...(step.answer.failed ? { failed: true } : {}),
    };
  }
  const input = step.input;
  let live: LiveContext | undefined;
  if (dependencies.cluster) {
    live = withPolicyProtection(
      await gatherLiveContext(dependencies.cluster, input, {
        timeoutMs: dependencies.configuration.cluster.gatherTimeoutMs,
        maxApiCalls: dependencies.configuration.cluster.maxApiCalls,
      }),
      options.policy,
    );
    notices.push(
      `live: read ${live.pods.length} pod(s), ${live.objects.length} object(s), ${live.events.length} event(s) in ${live.report.apiCalls} API call(s), ${live.report.durationMs} ms${live.report.partial ? ' (partial)' : ''}`,
    );
    for (const denial of live.report.denied)
      notices.push(
        `no access: kubemend may not read namespace ${denial.namespace}${denial.protectedByPolicy ? ' (protected by policy)' : ' (not opted in)'}`,
      );
  } else {
    notices.push('offline: analysed from the context in the request only; no cluster was consulted');
  }
  options.onPhase?.('analyzing', 'running the rules');
  const context = contextFromInput(input, { logs: options.logs, live });
  const rules = analyzeWithRules(context);
  let analysis = rules.analysis;
  let finding: Finding = rules.finding;
  const extraDrafts: Array<AiFinding['proposals'][number]> = [];
  let ai: AnalyzedRequest['ai'];
  if (dependencies.ai) {
    const { analyzer } = dependencies.ai;
    options.onPhase?.('analyzing', `asking ${analyzer.provider} (${analyzer.model})`);
    const outcome = await analyzer.analyze({
      context,
      ruleFindings: evaluateRules(rules.facts),
      cluster: dependencies.cluster,
      budget: dependencies.ai.budget,
    });
    ai = {
      provider: outcome.provider,
      model: outcome.model,
      usage: outcome.usage,
      ok: outcome.ok,
      ...(outcome.ok ? {} : { reason: outcome.reason }),
    };
    if (outcome.ok) {
      const merged = dependencies.ai.merge(rules, outcome.finding);
      analysis = merged.analysis;
      finding = merged.finding;
      extraDrafts.push(...merged.extraDrafts);
      notices.push(
        `ai: ${outcome.provider} ${outcome.model}, ${outcome.usage.inputTokens}+${outcome.usage.outputTokens} tokens, ${outcome.usage.modelMs} ms`,
      );
    } else {
      notices.push(`ai: ${outcome.provider} unavailable (${outcome.reason}); the rules' answer stands`);
    }
  } else {
    notices.push('rules only: no AI provider is configured');
  }
  if (options.policyName !== 'default') notices.push(`policy: ${options.policyName}`);
  options.onPhase?.('planning', 'planning actions');
  const history = await dependencies.history?.(finding.category);
  const plan = planRemediation({
    finding,
    facts: rules.facts,
    policy: options.policy,
    requestedMode: options.requestedMode,
    extraDrafts,
    runbooks: dependencies.configuration.runbooks,
    ...(history ? { history } : {}),
    ...(analysis.source === 'ai' ? { modelOnly: true } : {}),
  });
  notices.push(...plan.notices);
  return {
    analysis: {
      ...analysis,
      // The history raised the confidence the policy decided with: the answer reports that one.
      ...(plan.confidence !== finding.confidence ? { confidence: plan.confidence } : {}),
      factors: [...analysis.factors, ...plan.notes],
      ...(step.choice ? { target: step.choice } : {}),
    },
    remediation: plan.remediation,
    mode: plan.mode,
    notices,
    ...(plan.history ? { history: plan.history } : {}),
    ...(ai ? { ai } : {}),
  };
}
