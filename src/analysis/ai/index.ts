/**
 * The AI analysis layer's public surface (named exports only). The composition root calls
 * `createAiAnalyzer(configuration.ai)` once per process, passes `aiBudgetFrom(configuration.ai)`
 * with each request, and merges with `mergeFindings`/`mergeWithRules`. The settings themselves are
 * the `ai` section of the one Configuration (src/config/ai.ts).
 */
export type { AiAnalyzer, AiBudget, AiFinding, AiOutcome, AiRequest, AiUsage } from './port.js';
export { aiBudgetFrom } from './budget.js';
export { ModelAiAnalyzer, createAiAnalyzer } from './analyzer.js';
export type { AnalyzerConfig, CreateAnalyzerOptions } from './analyzer.js';
export { MODEL_ONLY_CAP, RULES_PRECEDENCE, mergeFindings, mergeWithRules, wellEvidenced } from './merge.js';
export type { MergeOutcome, MergedAnalysis, RuleAnalysisLike } from './merge.js';
export { Pseudonymizer, Redactor } from './redaction.js';
export type { RedactionOptions } from './redaction.js';
export { ProviderError } from './model.js';
export type { ChatModel, ChatRequest, ChatResponse } from './model.js';
