/**
 * Runbooks: the team's own fixes, as data (docs/runbooks.md). A runbook says when it applies (a
 * category, namespaces, labels, a log or event pattern) and which typed actions to propose, with
 * `{{ reference }}` placeholders filled from the finding. The schema is strict (an unknown key is
 * named), every pattern must compile and every placeholder must name a known reference, so a
 * runbook that would fail at run time is refused when it is loaded.
 */
import { z } from 'zod';
import { CATEGORIES, CLUSTER_SCOPED_KINDS, RISK_LEVELS, PATCH_TYPES } from '../domain/index.js';

/** `{{ target.name }}`, `{{ finding.details.dependency }}`, `{{ match.broker }}`. */
export const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const REFERENCE =
  /^(?:target\.(?:kind|name|namespace|apiVersion)|finding\.(?:category|details(?:\.[A-Za-z0-9_]+)+)|match\.[A-Za-z0-9_]+)$/;

/** Kinds a runbook may never change: cluster-scoped objects and RBAC. */
export const RUNBOOK_FORBIDDEN_KINDS: ReadonlySet<string> = new Set([
  ...CLUSTER_SCOPED_KINDS,
  'Role',
  'RoleBinding',
  'ClusterRole',
  'ClusterRoleBinding',
  'ServiceAccount',
  'Secret',
]);

function placeholdersValid(text: string, context: z.RefinementCtx): void {
  for (const match of text.matchAll(PLACEHOLDER)) {
    const reference = match[1] ?? '';
    if (!REFERENCE.test(reference))
      context.addIssue({
        code: 'custom',
        message: `unknown placeholder {{ ${reference} }}: use target.kind|name|namespace|apiVersion, finding.category, finding.details.<field> or match.<group>`,
      });
  }
  const stray = text.replace(PLACEHOLDER, '');
  if (stray.includes('{{') || stray.includes('}}'))
    context.addIssue({ code: 'custom', message: 'unbalanced {{ }} in a template' });
}

/** A string that may hold placeholders. */
const Template = z.string().min(1).superRefine(placeholdersValid);

/** A JSON value whose strings may hold placeholders (patch bodies, manifests). */
const TemplateValue: z.ZodType<unknown> = z.lazy(() =>
  z.union([
    z.string().superRefine(placeholdersValid),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(TemplateValue),
    z.record(z.string(), TemplateValue),
  ]),
);
const TemplateObject = z.record(z.string(), TemplateValue);

const Pattern = z
  .string()
  .min(1)
  .max(500)
  .superRefine((source, context) => {
    try {
      new RegExp(source);
    } catch (error) {
      context.addIssue({ code: 'custom', message: `not a regular expression: ${(error as Error).message}` });
    }
  });

const Kind = z
  .string()
  .regex(/^[A-Z][A-Za-z0-9]*$/, 'a Kubernetes kind such as Deployment')
  .refine((kind) => !RUNBOOK_FORBIDDEN_KINDS.has(kind), {
    message: 'runbooks may not change cluster-scoped objects, RBAC, ServiceAccounts or Secrets',
  });

const TargetTemplate = z.strictObject({
  apiVersion: z.string().min(1).optional(),
  kind: Kind,
  /** Default: the namespace of the finding's workload. */
  namespace: Template.optional(),
  name: Template,
});

const common = {
  target: TargetTemplate,
  description: Template,
  rationale: Template.optional(),
  verification: Template.optional(),
};

/** A whole-value placeholder (`"{{ finding.details.desiredReplicas }}"`) or a number. */
const Count = z.union([z.number().int().min(1).max(10_000), Template]);

export const ActionTemplateSchema = z.discriminatedUnion('type', [
  z.strictObject({ ...common, type: z.literal('restart') }),
  z.strictObject({ ...common, type: z.literal('scale'), params: z.strictObject({ replicas: Count }) }),
  z.strictObject({
    ...common,
    type: z.literal('rollback'),
    params: z.strictObject({ toRevision: Count.optional() }).default({}),
  }),
  z.strictObject({
    ...common,
    type: z.literal('patch'),
    params: z.strictObject({
      patchType: z.enum(PATCH_TYPES).default('strategic'),
      patch: z.union([TemplateObject, z.array(TemplateObject)]),
    }),
  }),
  z.strictObject({
    ...common,
    type: z.literal('create'),
    params: z.strictObject({ manifest: TemplateObject }),
  }),
  z.strictObject({
    ...common,
    type: z.literal('manual'),
    params: z.strictObject({ instructions: Template }),
  }),
]);
export type ActionTemplate = z.infer<typeof ActionTemplateSchema>;

const oneOrMany = <T extends z.ZodType>(schema: T) =>
  z.union([schema, z.array(schema).min(1)]).transform((value) => (Array.isArray(value) ? value : [value]));

export const RunbookMatchSchema = z.strictObject({
  /** The finding's category (one or several): a runbook never applies to every incident. */
  category: oneOrMany(z.enum(CATEGORIES)),
  /** Namespace names or globs (`team-*`); default: any the policy allows. */
  namespaces: z.array(z.string().min(1)).min(1).optional(),
  /** Labels the failing pod or its workload must carry (all of them). */
  labels: z.record(z.string().min(1), z.string()).optional(),
  /** A regular expression some log line must match; its named groups become `match.<name>`. */
  logPattern: Pattern.optional(),
  /** A regular expression some event message must match; its named groups become `match.<name>`. */
  eventPattern: Pattern.optional(),
});
export type RunbookMatch = z.infer<typeof RunbookMatchSchema>;

export const RunbookSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'lower-case letters, digits and dashes (at most 63)'),
  description: z.string().optional(),
  match: RunbookMatchSchema,
  /** The lowest risk its actions are rated: raises kubemend's own rating, never lowers it. */
  minRisk: z.enum(RISK_LEVELS).optional(),
  actions: z.array(ActionTemplateSchema).min(1).max(10),
});
export type Runbook = z.infer<typeof RunbookSchema>;
export type RunbookInput = z.input<typeof RunbookSchema>;

/** A runbook with where it was defined (for messages and the answer). */
export interface LoadedRunbook extends Runbook {
  /** `file` or `file:line` of its definition. */
  readonly origin: string;
}
