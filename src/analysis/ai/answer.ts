/**
 * The model's answer: a JSON document validated with zod. Category from the contract's list, root
 * cause, confidence, factors, verbatim evidence quotes, and actions in the contract's typed action
 * language with the risk the model claims. Anything else the model writes (a "mode", a "policy") is
 * ignored and reported.
 */
import { z } from 'zod';
import { CATEGORIES, PATCH_TYPES, RISK_LEVELS } from '../../domain/index.js';

const jsonObject = z.record(z.string(), z.unknown());

export const ModelTargetSchema = z.object({
  apiVersion: z.string().min(1).max(100).optional(),
  kind: z.string().min(1).max(63),
  namespace: z.string().min(1).max(63).optional(),
  name: z.string().min(1).max(253),
});

const actionCommon = {
  target: ModelTargetSchema,
  description: z.string().min(1).max(500),
  rationale: z.string().max(1_000).default(''),
  verification: z.string().max(500).default(''),
  /** The risk the model claims; kubemend's deterministic rating can only raise it. */
  risk: z.enum(RISK_LEVELS).optional(),
};
const noParams = z.object({}).default({});

export const ModelActionSchema = z.discriminatedUnion('type', [
  z.object({
    ...actionCommon,
    type: z.literal('patch'),
    params: z.object({
      patchType: z.enum(PATCH_TYPES).default('strategic'),
      patch: z.union([jsonObject, z.array(jsonObject).min(1)]),
    }),
  }),
  z.object({
    ...actionCommon,
    type: z.literal('scale'),
    params: z.object({ replicas: z.number().int().min(0).max(10_000) }),
  }),
  z.object({ ...actionCommon, type: z.literal('restart'), params: noParams }),
  z.object({
    ...actionCommon,
    type: z.literal('rollback'),
    params: z.object({ toRevision: z.number().int().min(1).optional() }).default({}),
  }),
  z.object({ ...actionCommon, type: z.literal('create'), params: z.object({ manifest: jsonObject }) }),
  z.object({
    ...actionCommon,
    type: z.literal('manual'),
    params: z.object({ instructions: z.string().min(1).max(2_000) }),
  }),
  z.object({ ...actionCommon, type: z.literal('delete'), params: noParams }),
  z.object({ ...actionCommon, type: z.literal('cordon'), params: noParams }),
  z.object({ ...actionCommon, type: z.literal('uncordon'), params: noParams }),
]);
export type ModelAction = z.infer<typeof ModelActionSchema>;

const coreShape = {
  category: z.enum(CATEGORIES),
  rootCause: z.string().min(1).max(2_000),
  confidence: z.number().min(0).max(1),
  factors: z.array(z.string().max(500)).max(12).default([]),
  /** Exact quotes from the incident data or tool outputs. */
  evidence: z.array(z.string().min(1).max(1_000)).max(12).default([]),
};

export const ModelAnswerSchema = z.object({
  ...coreShape,
  actions: z.array(ModelActionSchema).max(6).default([]),
});
export type ModelAnswer = z.infer<typeof ModelAnswerSchema>;

const CoreAnswerSchema = z.object({ ...coreShape, actions: z.array(z.unknown()).default([]) });

export const ANSWER_FIELDS = [
  'category',
  'rootCause',
  'confidence',
  'factors',
  'evidence',
  'actions',
] as const;

export interface ParsedAnswer {
  readonly answer: ModelAnswer;
  /** Top-level fields the model wrote that it may not set (mode, policy, …). */
  readonly ignoredFields: readonly string[];
  /** Actions dropped because they did not fit the schema (salvage only). */
  readonly invalidActions: number;
}

export type AnswerResult =
  | { readonly ok: true; readonly value: ParsedAnswer }
  | { readonly ok: false; readonly problems: readonly string[]; readonly raw?: unknown };

/** The JSON document in a reply: a fenced ```json block, or the outermost braces. */
export function extractJson(text: string): { ok: true; value: unknown } | { ok: false; problem: string } {
  const fenced = /```(?:json)?\s*\n([\s\S]*?)```/i.exec(text);
  const candidate = fenced?.[1] ?? text;
  const start = candidate.indexOf('{');
  const end = candidate.lastIndexOf('}');
  if (start < 0 || end <= start) return { ok: false, problem: 'the reply holds no JSON object' };
  try {
    return { ok: true, value: JSON.parse(candidate.slice(start, end + 1)) as unknown };
  } catch (error) {
    return {
      ok: false,
      problem: `the reply is not valid JSON (${error instanceof Error ? error.message : 'parse error'})`,
    };
  }
}

function issues(error: z.ZodError): string[] {
  return error.issues.slice(0, 8).map((issue) => {
    const path = issue.path.map(String).join('.');
    return path ? `${path}: ${issue.message}` : issue.message;
  });
}

function ignoredFieldsOf(raw: unknown): string[] {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return [];
  return Object.keys(raw)
    .filter((key) => !(ANSWER_FIELDS as readonly string[]).includes(key))
    .slice(0, 10);
}

/** Strict: the whole answer must fit the schema. */
export function parseAnswer(text: string): AnswerResult {
  const json = extractJson(text);
  if (!json.ok) return { ok: false, problems: [json.problem] };
  const parsed = ModelAnswerSchema.safeParse(json.value);
  if (!parsed.success) return { ok: false, problems: issues(parsed.error), raw: json.value };
  return {
    ok: true,
    value: { answer: parsed.data, ignoredFields: ignoredFieldsOf(json.value), invalidActions: 0 },
  };
}

/** Lenient, after the repair attempt failed: a valid core with the malformed actions dropped. */
export function salvageAnswer(raw: unknown): ParsedAnswer | undefined {
  const core = CoreAnswerSchema.safeParse(raw);
  if (!core.success) return undefined;
  const actions: ModelAction[] = [];
  let invalid = 0;
  for (const candidate of core.data.actions.slice(0, 6)) {
    const action = ModelActionSchema.safeParse(candidate);
    if (action.success) actions.push(action.data);
    else invalid += 1;
  }
  invalid += Math.max(0, core.data.actions.length - 6);
  return {
    answer: { ...core.data, actions },
    ignoredFields: ignoredFieldsOf(raw),
    invalidActions: invalid,
  };
}
