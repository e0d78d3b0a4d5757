/**
 * The AI analysis layer's public surface (named exports only). The composition root calls
 * `resolveAiSettings(env)` → `createAiAnalyzer(settings)` once per process, passes
 * `aiBudgetFrom(settings)` with each request, and merges with `mergeFindings`/`mergeWithRules`.
 */
export type { AiAnalyzer, AiBudget, AiFinding, AiOutcome, AiRequest, AiUsage } from './port.js';
export {
  AI_ENVIRONMENT_VARIABLES,
  AI_PROVIDERS,
  AiSettingsSchema,
  DEFAULT_MODELS,
  aiBudgetFrom,
  describeAiSettings,
  resolveAiSettings,
} from './settings.js';
export type { AiProviderName, AiSettings, AiSettingsInput } from './settings.js';
export { ModelAiAnalyzer, createAiAnalyzer } from './analyzer.js';
export type { AnalyzerConfig, CreateAnalyzerOptions } from './analyzer.js';
export { MODEL_ONLY_CAP, RULES_PRECEDENCE, mergeFindings, mergeWithRules, wellEvidenced } from './merge.js';
export type { MergeOutcome, MergedAnalysis, RuleAnalysisLike } from './merge.js';
export { Pseudonymizer, Redactor } from './redaction.js';
export type { RedactionOptions } from './redaction.js';
export { ProviderError } from './model.js';
export type { ChatModel, ChatRequest, ChatResponse } from './model.js';
