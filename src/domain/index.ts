export {
  ACTION_DECISIONS,
  ACTION_TYPES,
  ANALYSIS_SOURCES,
  CATEGORIES,
  DESIRED_STATE_MANAGERS,
  EVIDENCE_KINDS,
  EVIDENCE_ORIGINS,
  EXECUTABLE_ACTION_TYPES,
  EXECUTION_STATUSES,
  FAILURE_CATEGORIES,
  LOG_SOURCES,
  MODES,
  OUTPUT_STATUSES,
  OUTCOME_KINDS,
  PATCH_TYPES,
  RISK_LEVELS,
  SHADOW_OUTCOMES,
  TARGET_CHOICES,
  executesUnattended,
  isCategory,
  maxRisk,
  riskRank,
} from './vocabulary.js';
export type {
  ActionDecision,
  ActionType,
  AnalysisSource,
  Category,
  DesiredStateManager,
  EvidenceKind,
  EvidenceOrigin,
  ExecutionStatus,
  FailureCategory,
  LogSourceName,
  Mode,
  OutputStatus,
  OutcomeKind,
  PatchType,
  RiskLevel,
  ShadowOutcome,
  TargetChoice,
} from './vocabulary.js';
export {
  ConfigurationError,
  ERROR_CODES,
  ERROR_TABLE,
  EXIT_CODES,
  HTTP_ERROR_STATUSES,
  InvalidInputError,
  KubemendError,
  MCP_ERROR_CODES,
  errorMapping,
  formatPath,
} from './errors.js';
export type {
  ErrorCode,
  ErrorMapping,
  ExitCode,
  FieldIssue,
  HttpErrorStatus,
  McpErrorCode,
} from './errors.js';
export { err, ok } from './result.js';
export type { Result } from './result.js';
export {
  ActionTargetSchema,
  HistorySectionSchema,
  AnalysisSchema,
  CategorySchema,
  ClusterNameSchema,
  DesiredStateOwnerSchema,
  EvidenceSchema,
  ExecutionResultSchema,
  INPUT_MAX_BYTES,
  ISSUE_MAX_LENGTH,
  KubernetesEventSchema,
  RemediateContextSchema,
  RemediateInputSchema,
  RemediateOutputSchema,
  RemediationActionSchema,
  RemediationSchema,
  SESSION_ID_MAX_LENGTH,
  SessionIdSchema,
  TargetSchema,
  VerificationPlanSchema,
  AnalysisTargetSchema,
} from './schemas.js';
export type {
  ActionTarget,
  Analysis,
  DesiredStateOwner,
  AnalysisTarget,
  Evidence,
  ExecutionResult,
  KubernetesEvent,
  MetricValue,
  PatchParams,
  RemediateContext,
  RemediateInput,
  RemediateOutput,
  HistorySectionOutput,
  Remediation,
  RemediationAction,
  Target,
  VerificationPlan,
} from './schemas.js';
export { parseRemediateInput, toFieldIssues } from './validation.js';
export { excessiveNesting, MAX_JSON_DEPTH, nestingIssue } from './json-depth.js';
export { contractJsonSchemas } from './json-schemas.js';
export {
  formatCpu,
  formatMemory,
  parseCpuMillicores,
  parseMemoryBytes,
  parseQuantity,
  roundMemoryUp,
} from './quantity.js';
export { objectLabel } from './object-ref.js';
export type { ObjectReference } from './object-ref.js';
export { LABEL_SELECTOR_OPERATORS, isSelectorString, selectorMatches, selectorString } from './selectors.js';
export { ScanFindingSchema, ScanReportSchema, ScanRequestSchema } from './scan.js';
export type { ScanFinding, ScanReport, ScanRequest } from './scan.js';
export type { LabelSelector, LabelSelectorOperator, LabelSelectorRequirement } from './selectors.js';
export { type ActionDraft } from './action-draft.js';
export { canonicalJson, digest } from './canonical-json.js';
export {
  asArray,
  asBoolean,
  asNumber,
  asObject,
  asString,
  asStringMap,
  at,
  type JsonObject,
} from './json.js';
export {
  API_VERSIONS,
  apiVersionOf,
  CLUSTER_SCOPED_KINDS,
  KIND_SHORT_NAMES,
  TARGET_KINDS,
  targetKindOf,
  type TargetKind,
  WORKLOAD_KINDS,
  type WorkloadKind,
} from './kinds.js';
export type { ShadowAction, ShadowFieldChange, ShadowObservation } from './shadow.js';
export { globMatch } from './glob.js';
