// The files of a scenario directory (docs/simulation.md): expect.json with its `signals`, and
// input.json (a RemediateInput). Validated with zod; unknown keys are errors naming the key.
import { z } from 'zod';
import { CategorySchema, RemediateInputSchema } from '../../src/domain/index.js';
import { MODES, RISK_LEVELS } from '../../src/domain/vocabulary.js';

/** A value test: a literal (equality) or an operator object. */
export const MatcherSchema = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.null(),
  z
    .strictObject({
      includes: z.union([z.string(), z.array(z.string())]).optional(),
      matches: z.string().optional(),
      gte: z.number().optional(),
      lte: z.number().optional(),
      oneOf: z.array(z.union([z.string(), z.number(), z.boolean()])).optional(),
      absent: z.literal(true).optional(),
    })
    .refine((m) => Object.keys(m).length > 0, 'an operator object needs at least one of includes, matches, gte, lte, oneOf, absent'),
]);
export type Matcher = z.infer<typeof MatcherSchema>;

const paths = z.record(z.string().min(1), MatcherSchema);

/** Objects of a kind in the scenario namespace (or `namespace`), by name, name prefix or label selector. */
export const ObjectSignalSchema = z.strictObject({
  object: z.string().min(1).describe('kind or kubectl resource name: pod, deployment, hpa, pvc, endpointslice, ...'),
  name: z.string().optional(),
  namePrefix: z.string().optional(),
  selector: z.string().optional(),
  namespace: z.string().optional(),
  /** Dot paths from the object root (`status.phase`, `spec.replicas`) → matcher. */
  fields: paths.optional(),
  /** Dot paths inside one container status (`lastState.terminated.reason`); some container must match all. */
  containerStatus: paths.optional(),
  condition: z
    .strictObject({
      type: z.string(),
      status: z.enum(['True', 'False', 'Unknown']).optional(),
      reason: z.string().optional(),
      messageIncludes: z.union([z.string(), z.array(z.string())]).optional(),
    })
    .optional(),
  /** Every matching object must satisfy the tests (default: at least one). */
  every: z.boolean().default(false),
  /** How many objects must match the name/selector (default: at least one). */
  count: z.strictObject({ min: z.number().int().nonnegative().optional(), max: z.number().int().nonnegative().optional() }).optional(),
});

export const EventSignalSchema = z.strictObject({
  event: z.strictObject({
    reason: z.string(),
    type: z.enum(['Normal', 'Warning']).optional(),
    messageIncludes: z.union([z.string(), z.array(z.string())]).optional(),
    /** A JavaScript regular expression the whole message must match. */
    messageMatches: z.string().optional(),
    /** source.component or reportingComponent/reportingController (kubelet, default-scheduler, ...). */
    component: z.string().optional(),
    involvedKind: z.string().optional(),
    involvedNamePrefix: z.string().optional(),
    fieldPath: z.string().optional(),
    minCount: z.number().int().positive().optional(),
    namespace: z.string().optional(),
  }),
});

/** Container logs read through the apiserver (pods/log → the simulated kubelet). */
export const LogSignalSchema = z.strictObject({
  logs: z.strictObject({
    selector: z.string(),
    container: z.string().optional(),
    previous: z.boolean().default(false),
    includes: z.string(),
    namespace: z.string().optional(),
  }),
});

/** metrics.k8s.io PodMetrics of pods matching the selector: cpu in millicores, memory in bytes. */
export const PodMetricsSignalSchema = z.strictObject({
  podMetrics: z.strictObject({
    selector: z.string(),
    container: z.string().optional(),
    cpuMillicores: MatcherSchema.optional(),
    memoryBytes: MatcherSchema.optional(),
    namespace: z.string().optional(),
  }),
});

/** A Prometheus series from a simulated node's kubelet, read through the apiserver's node proxy. */
export const KubeletMetricSignalSchema = z.strictObject({
  kubeletMetric: z.strictObject({
    path: z.enum(['metrics/cadvisor', 'metrics/resource']),
    metric: z.string(),
    labels: z.record(z.string(), z.string()).default({}),
    value: MatcherSchema,
  }),
});

export const SignalSchema = z.union([
  ObjectSignalSchema,
  EventSignalSchema,
  LogSignalSchema,
  PodMetricsSignalSchema,
  KubeletMetricSignalSchema,
]);
export type Signal = z.infer<typeof SignalSchema>;
export type ObjectSignal = z.infer<typeof ObjectSignalSchema>;

export const ActionMatcherSchema = z.strictObject({
  type: z.union([z.string(), z.array(z.string())]).optional(),
  targetKind: z.union([z.string(), z.array(z.string())]).optional(),
  targetName: z.union([z.string(), z.array(z.string())]).optional(),
  mentions: z.array(z.string()).optional(),
});

export const OUTCOMES = ['fixed', 'pending', 'untouched', 'rolled-back'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export const ExpectSchema = z.strictObject({
  description: z.string().optional(),
  category: z.union([CategorySchema, z.array(CategorySchema).min(1)]),
  mode: z.enum(MODES),
  policy: z.string().optional(),
  outcome: z.enum(OUTCOMES),
  healthy: z.array(z.strictObject({ kind: z.enum(['Deployment', 'StatefulSet', 'DaemonSet']), name: z.string() })).default([]),
  endpoints: z.array(z.strictObject({ service: z.string(), min: z.number().int().positive() })).default([]),
  forbid: z.array(ActionMatcherSchema).default([]),
  /** Each entry must be matched by some proposed action (e.g. a `manual` action mentioning given words). */
  actions: z.array(ActionMatcherSchema).default([]),
  /** Texts the answer's notices must hold (each in some notice). */
  notices: z.array(z.string().min(1)).default([]),
  /** Words the analysis (root cause and factors) must contain, whitespace ignored. */
  rootCauseMentions: z.array(z.string().min(1)).default([]),
  /** Opt the scenario namespace in for kubemend (a RoleBinding). false: kubemend may not read it. */
  optIn: z.boolean().default(true),
  maxActionRisk: z.enum(RISK_LEVELS).optional(),
  timeoutSeconds: z.number().positive().max(1800),
  signals: z.array(SignalSchema).min(1, 'a scenario asserts at least one signal'),
});
export type Expect = z.infer<typeof ExpectSchema>;

export { RemediateInputSchema };

export function formatIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`).join('; ');
}
