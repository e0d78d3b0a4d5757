/**
 * Policies (contract §5): what may run without a person. Loaded from YAML by `config/`; evaluated
 * here, deterministically, for each proposed action.
 */
import { z } from 'zod';
import {
  type ActionDecision,
  EXECUTABLE_ACTION_TYPES,
  type Mode,
  MODES,
  type RemediationAction,
  RISK_LEVELS,
  riskRank,
  CLUSTER_SCOPED_KINDS,
  globMatch,
  type DesiredStateOwner,
} from '../domain/index.js';
import { LearningSettingsSchema } from '../learning/history.js';

export const PROTECTED_NAMESPACES = [
  'kube-system',
  'kube-public',
  'kube-node-lease',
  'kubemend-system',
  'kubemend-sim',
] as const;

const DURATION = /^(\d+)(ms|s|m|h)$/;

export function parseDuration(text: string): number {
  const match = DURATION.exec(text.trim());
  if (!match) throw new Error(`not a duration: ${text}`);
  const value = Number(match[1]);
  const unit = match[2];
  return unit === 'ms'
    ? value
    : unit === 's'
      ? value * 1000
      : unit === 'm'
        ? value * 60_000
        : value * 3_600_000;
}

const Duration = z.string().regex(DURATION, 'a duration such as 30s, 10m or 1h');

/** What a policy does with actions on GitOps- or Helm-managed objects (ADR 0031). */
export const GITOPS_MANAGED_POLICIES = ['propose', 'live-patch', 'refuse'] as const;

const PolicyFieldsSchema = z.strictObject({
  description: z.string().optional(),
  /** The most permissive mode a request may use under this policy. */
  mode: z.enum(MODES).default('automatic'),
  minConfidence: z.number().min(0).max(1).default(0.8),
  /** Highest risk that hybrid mode executes without approval. */
  maxAutoRisk: z.enum(RISK_LEVELS).default('low'),
  /** Highest risk that automatic mode executes without approval (kubemend extension). */
  maxAutomaticRisk: z.enum(RISK_LEVELS).default('medium'),
  allowedActions: z
    .array(z.enum(EXECUTABLE_ACTION_TYPES))
    .default(['patch', 'scale', 'restart', 'rollback', 'create']),
  namespaces: z
    .strictObject({
      allow: z.array(z.string().min(1)).default(['*']),
      deny: z.array(z.string().min(1)).default([]),
    })
    .default({ allow: ['*'], deny: [] }),
  /** Kinds that may never be changed under this policy, in addition to cluster-scoped kinds. */
  protectedKinds: z
    .array(z.string())
    .default(['Namespace', 'Node', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition']),
  cooldown: Duration.default('10m'),
  maxActionsPerHour: z.number().int().min(0).default(20),
  verifyTimeout: Duration.default('120s'),
  /**
   * Server-side dry-run before every apply. `false` skips it and is accepted only with
   * `mode: manual` (every change approved by a person first): ADR 0016.
   */
  requireDryRun: z.boolean().default(true),
  /** Upper bound for the replicas any action may set (scale, `spec.replicas`, HPA min/max). */
  maxReplicas: z.number().int().min(1).default(50),
  /** How the outcome history changes decisions (docs/learning.md). */
  learning: LearningSettingsSchema.prefault({}),
  /**
   * Actions on objects whose desired state Argo CD, Flux or Helm own (ADR 0031): `propose` (never
   * unattended: they wait for approval, beside the change to make in Git), `live-patch` (as any
   * other object; verification also checks the change is not reverted) or `refuse` (denied).
   */
  gitopsManaged: z.enum(GITOPS_MANAGED_POLICIES).default('propose'),
  /**
   * Floor and ceiling of the verification windows (ADR 0032): a verified workload stays healthy at
   * least this long, however little evidence there is (0s: with no failure evidence, once the
   * rollout is complete and available — which includes the workload's own minReadySeconds), and
   * the windows last at most this long, however much.
   */
  verifyMinStability: Duration.default('0s'),
  verifyMaxStability: Duration.default('5m'),
  /**
   * With `gitopsManaged: live-patch`, how long verification watches a live change to an object Argo
   * CD or Flux own for a revert (their self-heal or next reconcile), at least (ADR 0031); bounded by
   * `verifyMaxStability`.
   */
  verifyRevertWindow: Duration.default('30s'),
});

/** A policy; one that would skip the dry-run of an unattended change is refused where it is loaded. */
export const PolicySchema = PolicyFieldsSchema.superRefine((policy, context) => {
  if (!policy.requireDryRun && policy.mode !== 'manual')
    context.addIssue({
      code: 'custom',
      path: ['requireDryRun'],
      message: `false is allowed only with mode: manual (every change approved by a person); this policy's mode is ${policy.mode}, which executes changes unattended`,
    });
  if (parseDuration(policy.verifyMaxStability) < parseDuration(policy.verifyMinStability))
    context.addIssue({
      code: 'custom',
      path: ['verifyMaxStability'],
      message: `${policy.verifyMaxStability} is below verifyMinStability (${policy.verifyMinStability})`,
    });
});
export type Policy = z.infer<typeof PolicySchema>;

export const PoliciesFileSchema = z.strictObject({
  policies: z.record(z.string().min(1), PolicySchema),
  default: z.string().min(1).optional(),
});

export const DEFAULT_POLICY_NAME = 'default';

/** The embedded policies: used when no policy file is configured. */
export function builtInPolicies(): Record<string, Policy> {
  return {
    default: PolicySchema.parse({
      description:
        'Executes what is allowed when the request asks for it; kube-system and other protected namespaces are never changed.',
    }),
    conservative: PolicySchema.parse({
      description: 'Never changes the cluster: every action waits for a person.',
      mode: 'manual',
      minConfidence: 0.9,
      allowedActions: ['patch', 'scale', 'restart', 'rollback'],
    }),
    'auto-low-risk': PolicySchema.parse({
      description: 'Hybrid at most: only low-risk, high-confidence actions run unattended.',
      mode: 'hybrid',
      minConfidence: 0.85,
      maxAutoRisk: 'low',
      maxAutomaticRisk: 'low',
    }),
  };
}

const MODE_ORDER: Readonly<Record<Mode, number>> = { manual: 0, hybrid: 1, automatic: 2 };

/** A request's mode can only be as permissive as its policy allows. */
export function effectiveMode(requested: Mode, policy: Policy): Mode {
  return MODE_ORDER[requested] <= MODE_ORDER[policy.mode] ? requested : policy.mode;
}

export function protectedNamespaces(policy: Policy): Set<string> {
  return new Set([...PROTECTED_NAMESPACES, ...policy.namespaces.deny.filter((ns) => !ns.includes('*'))]);
}

/** Is this namespace one the policy lets kubemend change? */
export function namespaceAllowed(policy: Policy, namespace: string | undefined): boolean {
  if (namespace === undefined) return true;
  if (PROTECTED_NAMESPACES.includes(namespace as (typeof PROTECTED_NAMESPACES)[number])) return false;
  if (policy.namespaces.deny.some((pattern) => globMatch(pattern, namespace))) return false;
  return policy.namespaces.allow.some((pattern) => globMatch(pattern, namespace));
}

export interface DecisionInput {
  readonly mode: Mode;
  readonly policy: Policy;
  readonly confidence: number;
  /** Who owns the target's desired state, when Argo CD, Flux or Helm do (ADR 0031). */
  readonly owner?: DesiredStateOwner;
}

/** What happens to one action under the mode and policy: execute now, wait for a person, or never. */
export function decide(
  action: RemediationAction,
  input: DecisionInput,
): { decision: ActionDecision; reason: string } {
  const { mode, policy, confidence } = input;
  if (action.type === 'manual')
    return { decision: 'advice', reason: 'advice for a person; kubemend does not execute it' };
  if (!policy.allowedActions.includes(action.type)) {
    return {
      decision: 'denied',
      reason: `policy does not allow ${action.type} actions (allowed: ${policy.allowedActions.join(', ')})`,
    };
  }
  if (!namespaceAllowed(policy, action.target.namespace)) {
    return {
      decision: 'denied',
      reason: `namespace ${action.target.namespace} is protected or not allowed by policy`,
    };
  }
  if (
    CLUSTER_SCOPED_KINDS.has(action.target.kind) &&
    action.type !== 'cordon' &&
    action.type !== 'uncordon'
  ) {
    return {
      decision: 'denied',
      reason: `${action.target.kind} is cluster-scoped; kubemend changes only namespaced objects`,
    };
  }
  if (
    policy.protectedKinds.includes(action.target.kind) &&
    action.type !== 'cordon' &&
    action.type !== 'uncordon'
  ) {
    return { decision: 'denied', reason: `policy protects ${action.target.kind} objects` };
  }
  const tooMany = replicaCounts(action).find((count) => count.value > policy.maxReplicas);
  if (tooMany) {
    return {
      decision: 'denied',
      reason: `${action.type} sets ${tooMany.field} of ${action.target.kind}/${action.target.name} to ${tooMany.value}, above the policy's maxReplicas (${policy.maxReplicas})`,
    };
  }
  const managed = input.owner && policy.gitopsManaged !== 'live-patch' ? input.owner : undefined;
  if (managed) {
    const label = `${action.target.kind}/${action.target.name}`;
    const helm = managed.manager === 'helm';
    const undone = helm ? 'the next helm upgrade' : 'its next sync';
    const where = helm ? "in the release's values" : 'in Git';
    return policy.gitopsManaged === 'refuse'
      ? {
          decision: 'denied',
          reason: `${label} is managed by ${managed.owner}; the policy refuses live changes to managed objects (gitopsManaged: refuse): make the change ${where}`,
        }
      : {
          decision: 'await-approval',
          reason: `${label} is managed by ${managed.owner}: ${undone} reverts a live change, so it is never made unattended (gitopsManaged: propose); make the change ${where}`,
        };
  }
  if (mode === 'manual')
    return { decision: 'await-approval', reason: 'manual mode: every change waits for approval' };
  if (confidence < policy.minConfidence) {
    return {
      decision: 'await-approval',
      reason: `confidence ${confidence.toFixed(2)} is below the policy's minConfidence ${policy.minConfidence}`,
    };
  }
  const ceiling = mode === 'hybrid' ? policy.maxAutoRisk : policy.maxAutomaticRisk;
  if (riskRank(action.risk) > riskRank(ceiling)) {
    return {
      decision: 'await-approval',
      reason: `${action.risk} risk is above what ${mode} mode runs unattended (${ceiling})`,
    };
  }
  return {
    decision: 'execute',
    reason: `${mode} mode: ${action.risk} risk at confidence ${confidence.toFixed(2)} is within policy`,
  };
}

const REPLICA_FIELDS = ['replicas', 'minReplicas', 'maxReplicas'] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Replica counts an action sets: `scale`, and `spec.{replicas,minReplicas,maxReplicas}` in a patch or manifest. */
export function replicaCounts(action: RemediationAction): Array<{ field: string; value: number }> {
  const counts: Array<{ field: string; value: number }> = [];
  const fromSpec = (spec: unknown) => {
    if (!isObject(spec)) return;
    for (const field of REPLICA_FIELDS) {
      const value = spec[field];
      if (typeof value === 'number') counts.push({ field: `spec.${field}`, value });
    }
  };
  if (action.type === 'scale') counts.push({ field: 'replicas', value: action.params.replicas });
  if (action.type === 'create')
    fromSpec((action.params.manifest as Record<string, unknown> | undefined)?.['spec']);
  if (action.type !== 'patch') return counts;
  const patch: unknown = action.params.patch;
  if (isObject(patch)) fromSpec(patch['spec']);
  if (!Array.isArray(patch)) return counts;
  // JSON patch: operations that add or replace a replica count, or the whole spec.
  for (const operation of patch as unknown[]) {
    if (!isObject(operation) || (operation['op'] !== 'add' && operation['op'] !== 'replace')) continue;
    const path = String(operation['path']);
    const field = REPLICA_FIELDS.find((name) => path === `/spec/${name}`);
    if (field && typeof operation['value'] === 'number')
      counts.push({ field: `spec.${field}`, value: operation['value'] });
    if (path === '/spec') fromSpec(operation['value']);
  }
  return counts;
}
