/**
 * The AI analysis port. A model is for what rules cannot explain and for richer reasoning across
 * logs, events and history. It investigates with read-only tools and answers in a schema; nothing
 * it says is trusted until our own gates agree (evidence must be quoted from the context, actions go
 * through the same planning, guards, deterministic risk and policy as rule actions).
 *
 * Implementations live in src/analysis/ai/ (providers: Anthropic Claude, any OpenAI-compatible
 * endpoint). The service calls `AiAnalyzer.analyze` after the rules and merges the answer.
 */
import type { Evidence, RiskLevel, ActionDraft } from '../../domain/index.js';
import type { IncidentContext } from '../../context/model.js';
import type { Finding } from '../finding.js';
import type { ClusterGateway } from '../../cluster/gateway.js';

export interface AiBudget {
  /** Wall-clock budget for the whole analysis (default 10 s). */
  readonly timeoutMs: number;
  readonly maxSteps: number;
  readonly maxToolOutputChars: number;
  readonly maxTotalTokens: number;
}

export interface AiRequest {
  readonly context: IncidentContext;
  /** The rules' findings, best first: hints for the model. */
  readonly ruleFindings: readonly Finding[];
  /** Read-only cluster access for investigation tools; absent offline. */
  readonly cluster?: ClusterGateway;
  readonly budget: AiBudget;
  readonly signal?: AbortSignal;
}

export interface AiUsage {
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly modelMs: number;
  readonly toolMs: number;
  readonly steps: number;
  /** How many secrets/tokens were masked before anything left for the provider. */
  readonly redactions: number;
}

/** The model's diagnosis: category, cause, confidence and factors as a rule's `Finding` has them. */
export interface AiFinding extends Pick<Finding, 'category' | 'rootCause' | 'confidence' | 'factors'> {
  /** Quotes the model cited that were found verbatim in the context (others were dropped). */
  readonly evidence: readonly Evidence[];
  /** How many quotes the model cited that did not appear in the context. */
  readonly droppedEvidence: number;
  /** Actions in the contract's typed language, with the risk the model claims (may only raise ours). */
  readonly proposals: ReadonlyArray<{ readonly draft: ActionDraft; readonly claimedRisk?: RiskLevel }>;
}

export type AiOutcome =
  | {
      readonly ok: true;
      readonly finding: AiFinding;
      readonly usage: AiUsage;
      readonly provider: string;
      readonly model: string;
    }
  | {
      readonly ok: false;
      readonly reason: string;
      readonly usage: AiUsage;
      readonly provider: string;
      readonly model: string;
    };

export interface AiAnalyzer {
  readonly provider: string;
  readonly model: string;
  analyze(request: AiRequest): Promise<AiOutcome>;
}
