/**
 * The public contract as zod schemas: `RemediateInput`, `RemediateOutput` and every nested type.
 * JSON Schemas are derived from these (see json-schemas.ts); pin tests keep changes deliberate.
 *
 * Kubernetes objects the caller passes through (events, pods, other manifests) are open objects:
 * we type the fields we read and keep the rest, because real manifests carry far more fields than
 * any rule needs. The envelope itself is strict: unknown fields are rejected by name.
 */
import { z } from 'zod';
import {
  ACTION_DECISIONS,
  ANALYSIS_SOURCES,
  CATEGORIES,
  DESIRED_STATE_MANAGERS,
  EVIDENCE_KINDS,
  EVIDENCE_ORIGINS,
  LOG_SOURCES,
  EXECUTION_STATUSES,
  MODES,
  OUTPUT_STATUSES,
  OUTCOME_KINDS,
  PATCH_TYPES,
  RISK_LEVELS,
  TARGET_CHOICES,
} from './vocabulary.js';

export const ISSUE_MAX_LENGTH = 10_000;
/** The largest input document accepted, in bytes: admits 1,000,000 log lines of 100 characters. */
export const INPUT_MAX_BYTES = 128 * 1024 * 1024;

const kubernetesName = z.string().min(1).max(253);
const timestamp = z.union([z.string(), z.null()]).optional();

export const CategorySchema = z.enum(CATEGORIES).describe('Failure category (stable identifier)');
export const RiskLevelSchema = z.enum(RISK_LEVELS);
export const ModeSchema = z.enum(MODES);

export const ObjectReferenceSchema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  namespace: z.string().optional(),
  name: z.string().optional(),
  uid: z.string().optional(),
  fieldPath: z.string().optional(),
});

/** A `core/v1` Event or an `events.k8s.io/v1` Event; both shapes are accepted. */
export const KubernetesEventSchema = z
  .looseObject({
    apiVersion: z.string().optional(),
    kind: z.string().optional(),
    metadata: z.looseObject({ name: z.string().optional(), namespace: z.string().optional() }).optional(),
    involvedObject: ObjectReferenceSchema.optional(),
    regarding: ObjectReferenceSchema.optional(),
    related: ObjectReferenceSchema.nullable().optional(),
    reason: z.string().optional(),
    message: z.string().optional(),
    note: z.string().optional(),
    type: z.string().optional(),
    count: z.number().int().nonnegative().optional(),
    deprecatedCount: z.number().int().nonnegative().optional(),
    firstTimestamp: timestamp,
    lastTimestamp: timestamp,
    eventTime: timestamp,
    deprecatedFirstTimestamp: timestamp,
    deprecatedLastTimestamp: timestamp,
    source: z.looseObject({ component: z.string().optional(), host: z.string().optional() }).optional(),
    reportingController: z.string().optional(),
    reportingComponent: z.string().optional(),
    series: z
      .looseObject({ count: z.number().int().nonnegative().optional(), lastObservedTime: timestamp })
      .nullable()
      .optional(),
  })
  .describe('Kubernetes Event: core/v1 (involvedObject, message) or events.k8s.io/v1 (regarding, note)');

export const MetricSampleSchema = z.strictObject({
  t: z.union([z.number(), z.string()]).optional(),
  v: z.number(),
});
export const MetricValueSchema = z.union([z.number(), z.string(), z.array(MetricSampleSchema)]);

/** A whole Pod manifest (preferred) or a bare PodSpec. */
export const PodSpecInputSchema = z
  .looseObject({
    apiVersion: z.string().optional(),
    kind: z.string().optional(),
    metadata: z.looseObject({}).optional(),
    spec: z.looseObject({}).optional(),
    status: z.looseObject({}).optional(),
    containers: z.array(z.looseObject({})).optional(),
  })
  .refine((value) => value.spec !== undefined || value.containers !== undefined, {
    message: 'expected a Pod manifest (with `spec`) or a bare PodSpec (with `containers`)',
  })
  .refine((value) => value.kind === undefined || value.kind === 'Pod', {
    message: 'a manifest given as podSpec must have kind Pod; pass other objects in context.resources',
    path: ['kind'],
  });

export const ResourceManifestSchema = z.looseObject({
  apiVersion: z.string().optional(),
  kind: z.string().min(1, 'every resource needs a kind'),
  metadata: z.looseObject({ name: z.string().optional(), namespace: z.string().optional() }).optional(),
});

export const RemediateContextSchema = z.strictObject({
  event: KubernetesEventSchema.optional(),
  logs: z.array(z.string()).optional().describe('Log lines, newest last; may be very large'),
  metrics: z.record(z.string(), MetricValueSchema).optional(),
  podSpec: PodSpecInputSchema.optional(),
  relatedEvents: z.array(KubernetesEventSchema).optional(),
  resources: z.array(ResourceManifestSchema).optional(),
});

export const TargetSchema = z.strictObject({
  apiVersion: z.string().min(1).optional(),
  kind: z.string().min(1),
  namespace: z.string().min(1).max(63).optional(),
  name: kubernetesName,
});

/** The longest session id; the HTTP router's path-parameter limit is this same number. */
export const SESSION_ID_MAX_LENGTH = 128;

export const SessionIdSchema = z
  .string()
  .min(1)
  .max(SESSION_ID_MAX_LENGTH)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, dot, underscore and dash only');

/** A configured cluster, by its name in `clusters:` or its kubeconfig context. */
export const ClusterNameSchema = z
  .string()
  .min(1)
  .max(253)
  .regex(/^\S+$/, 'a configured cluster name or kubeconfig context (no spaces)')
  .describe('which configured cluster (kubeconfig context) this is about; default the current one');

export const RemediateInputSchema = z
  .strictObject({
    issue: z
      .string()
      .min(1, 'must not be empty')
      .max(ISSUE_MAX_LENGTH, `at most ${ISSUE_MAX_LENGTH} characters`),
    context: RemediateContextSchema.optional(),
    mode: ModeSchema.optional().describe('default manual'),
    policy: z.string().min(1).max(128).optional(),
    target: TargetSchema.optional(),
    sessionId: SessionIdSchema.optional(),
    approve: z.array(z.string().min(1).max(128)).max(100).optional(),
    dryRun: z.boolean().optional(),
    cluster: ClusterNameSchema.optional(),
  })
  .refine((value) => value.approve === undefined || value.sessionId !== undefined, {
    message: '`approve` needs the `sessionId` of the session whose actions it approves',
    path: ['approve'],
  });

export type RemediateInput = z.infer<typeof RemediateInputSchema>;
export type RemediateContext = z.infer<typeof RemediateContextSchema>;
export type KubernetesEvent = z.infer<typeof KubernetesEventSchema>;
export type Target = z.infer<typeof TargetSchema>;
export type MetricValue = z.infer<typeof MetricValueSchema>;

// ---------------------------------------------------------------------------------------------
// Output

export const ActionTargetSchema = z.strictObject({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  namespace: z.string().min(1).optional(),
  name: kubernetesName,
});
export type ActionTarget = z.infer<typeof ActionTargetSchema>;

const jsonObject = z.record(z.string(), z.unknown());

export const PatchParamsSchema = z.strictObject({
  patchType: z.enum(PATCH_TYPES),
  patch: z.union([jsonObject, z.array(jsonObject)]),
});
export const ScaleParamsSchema = z.strictObject({ replicas: z.number().int().min(0).max(10_000) });
export const RollbackParamsSchema = z.strictObject({ toRevision: z.number().int().min(1).optional() });
export const CreateParamsSchema = z.strictObject({ manifest: jsonObject });
export const ManualParamsSchema = z.strictObject({ instructions: z.string().min(1) });
export const EmptyParamsSchema = z.strictObject({});

export const ActionDecisionSchema = z
  .strictObject({
    decision: z.enum(ACTION_DECISIONS),
    reason: z.string(),
  })
  .describe('kubemend extension: what the mode and policy decided for this action, and why');

/** Who owns an object's desired state: a live change to it is undone by the next sync or upgrade. */
export const DesiredStateOwnerSchema = z
  .strictObject({
    manager: z.enum(DESIRED_STATE_MANAGERS),
    /** The owner object, in words: `Argo CD Application argocd/shop`, `Helm release shop/web`. */
    owner: z.string(),
  })
  .describe('kubemend extension: the GitOps controller or Helm release that owns the desired state');
export type DesiredStateOwner = z.infer<typeof DesiredStateOwnerSchema>;

export const VerificationPlanSchema = z
  .strictObject({
    /** How long the workload must stay healthy, without new restarts, once it is healthy. */
    stabilityMs: z.number().int().min(0).max(86_400_000),
    /** How long each container of the new pods must have run (k × the time a container ran before it failed). */
    survivalMs: z.number().int().min(0).max(86_400_000).optional(),
    /** The evidence the window follows, in words. */
    basis: z.array(z.string()),
    /** A live change to an object this owner manages: it must not be reverted within the window. */
    revertWatch: DesiredStateOwnerSchema.optional(),
  })
  .describe('kubemend extension: how long verification watches, computed from the evidence');
export type VerificationPlan = z.infer<typeof VerificationPlanSchema>;

const actionBase = {
  id: z.string().min(1).max(128),
  target: ActionTargetSchema,
  description: z.string(),
  command: z.string(),
  risk: RiskLevelSchema,
  rationale: z.string(),
  verification: z.string(),
  decision: ActionDecisionSchema.optional(),
  source: z
    .string()
    .regex(/^runbook:[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/)
    .optional()
    .describe('kubemend extension: the runbook that proposed this action (`runbook:<name>`)'),
  verificationPlan: VerificationPlanSchema.optional(),
};

export const RemediationActionSchema = z.discriminatedUnion('type', [
  z.strictObject({ ...actionBase, type: z.literal('patch'), params: PatchParamsSchema }),
  z.strictObject({ ...actionBase, type: z.literal('scale'), params: ScaleParamsSchema }),
  z.strictObject({ ...actionBase, type: z.literal('restart'), params: EmptyParamsSchema }),
  z.strictObject({ ...actionBase, type: z.literal('rollback'), params: RollbackParamsSchema }),
  z.strictObject({ ...actionBase, type: z.literal('delete'), params: EmptyParamsSchema }),
  z.strictObject({ ...actionBase, type: z.literal('cordon'), params: EmptyParamsSchema }),
  z.strictObject({ ...actionBase, type: z.literal('uncordon'), params: EmptyParamsSchema }),
  z.strictObject({ ...actionBase, type: z.literal('create'), params: CreateParamsSchema }),
  z.strictObject({ ...actionBase, type: z.literal('manual'), params: ManualParamsSchema }),
]);
export type RemediationAction = z.infer<typeof RemediationActionSchema>;
export type PatchParams = z.infer<typeof PatchParamsSchema>;

export const EvidenceSchema = z
  .strictObject({
    quote: z.string(),
    kind: z.enum(EVIDENCE_KINDS),
    origin: z.enum(EVIDENCE_ORIGINS),
    object: z.string().optional().describe('kind/namespace/name of the object the quote belongs to'),
    logSource: z
      .enum(LOG_SOURCES)
      .optional()
      .describe("for a log quote: the caller's logs, or the container's current or previous output"),
    container: z.string().optional().describe('for a log quote from a container: its name'),
  })
  .describe('kubemend extension: one evidence quote with where it came from');
export type Evidence = z.infer<typeof EvidenceSchema>;

export const AnalysisTargetSchema = z
  .strictObject({
    apiVersion: z.string().min(1).optional(),
    kind: z.string().min(1).optional(),
    namespace: z.string().min(1).optional(),
    name: kubernetesName.optional(),
    chosenBy: z.enum(TARGET_CHOICES),
    note: z.string().describe('how the target was chosen, or (unresolved) what kubemend needs'),
    candidates: z
      .array(z.string())
      .optional()
      .describe('other objects that were considered, as Kind/namespace/name'),
  })
  .describe('kubemend extension: the object the analysis is about and how it was chosen');
export type AnalysisTarget = z.infer<typeof AnalysisTargetSchema>;

export const AnalysisSchema = z.strictObject({
  rootCause: z.string(),
  confidence: z.number().min(0).max(1),
  factors: z.array(z.string()),
  category: CategorySchema,
  evidence: z.array(z.string()),
  source: z.enum(ANALYSIS_SOURCES),
  evidenceDetail: z.array(EvidenceSchema).optional(),
  subject: ActionTargetSchema.optional().describe('kubemend extension: the object the cause was found on'),
  checked: z.array(z.string()).optional().describe('kubemend extension: what was checked'),
  target: AnalysisTargetSchema.optional(),
});
export type Analysis = z.infer<typeof AnalysisSchema>;

export const RemediationSchema = z.strictObject({
  summary: z.string(),
  actions: z.array(RemediationActionSchema),
  risk: RiskLevelSchema,
});
export type Remediation = z.infer<typeof RemediationSchema>;

export const ExecutionResultSchema = z.strictObject({
  actionId: z.string(),
  status: z.enum(EXECUTION_STATUSES),
  message: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  before: jsonObject.optional(),
});
export type ExecutionResult = z.infer<typeof ExecutionResultSchema>;

export const HistoryRecordSchema = z.strictObject({
  cluster: z.string().optional(),
  category: z.string(),
  actionType: z.string(),
  workload: z.string().describe('the action target as Kind/namespace/name'),
  outcome: z.enum(OUTCOME_KINDS),
  at: z.string(),
  sessionId: z.string(),
  actionId: z.string().optional(),
});

export const HistorySectionSchema = z
  .strictObject({
    asOf: z.string().describe('when the history was read: the "now" of every window'),
    records: z.array(HistoryRecordSchema).describe('the outcome records that produced an effect'),
    effects: z.array(
      z.strictObject({
        effect: z.enum(['held', 'ranked-down', 'confidence']),
        actionId: z.string().optional(),
        reason: z.string(),
      }),
    ),
  })
  .describe('kubemend extension: the outcome history this answer used, and how it changed the plan');
export type HistorySectionOutput = z.infer<typeof HistorySectionSchema>;

export const RemediateOutputSchema = z.strictObject({
  status: z.enum(OUTPUT_STATUSES),
  sessionId: z.string(),
  analysis: AnalysisSchema,
  remediation: RemediationSchema,
  executed: z.boolean().optional(),
  results: z.array(ExecutionResultSchema).optional(),
  notices: z.array(z.string()).optional().describe('kubemend extension: caveats about this answer'),
  history: HistorySectionSchema.optional(),
});
export type RemediateOutput = z.infer<typeof RemediateOutputSchema>;
