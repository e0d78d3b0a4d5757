/**
 * The scan contract (kubemend extension; `kubemend scan`, `POST /v1/scan`, MCP tool `scan`): which
 * namespaces to look at, and what was found — one finding per failing object a person would change
 * (a Deployment, not each of its pods), with the category, confidence, a one-line cause and the
 * proposed actions with their risk.
 */
import { z } from 'zod';
import {
  ActionTargetSchema,
  CategorySchema,
  ClusterNameSchema,
  RemediationActionSchema,
  RiskLevelSchema,
} from './schemas.js';
import { isSelectorString } from './selectors.js';

const namespaceName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a namespace name (lower-case letters, digits and dashes)');

export const ScanRequestSchema = z
  .strictObject({
    namespaces: z
      .array(namespaceName)
      .min(1)
      .max(100)
      .optional()
      .describe('the namespaces to scan; absent (and allNamespaces absent): every namespace'),
    allNamespaces: z.boolean().optional().describe('scan every namespace (kubectl -A)'),
    labelSelector: z
      .string()
      .min(1)
      .max(1024)
      .refine(isSelectorString, 'a label selector as kubectl -l takes it, e.g. app=web,tier!=db')
      .optional()
      .describe('only objects with these labels (kubectl -l)'),
    policy: z
      .string()
      .min(1)
      .max(128)
      .optional()
      .describe('the policy the proposed actions are planned under'),
    cluster: ClusterNameSchema.optional(),
  })
  .refine((value) => !(value.allNamespaces === true && value.namespaces !== undefined), {
    message: 'give either namespaces or allNamespaces, not both',
    path: ['allNamespaces'],
  });
export type ScanRequest = z.infer<typeof ScanRequestSchema>;

export const ScanFindingSchema = z.strictObject({
  object: ActionTargetSchema.describe('the object a person would change (the owner of failing pods)'),
  category: CategorySchema,
  confidence: z.number().min(0).max(1),
  cause: z.string().describe('the root cause in one line'),
  evidence: z.array(z.string()).describe('the strongest quotes (at most three)'),
  pods: z
    .strictObject({ total: z.number().int().nonnegative(), failing: z.number().int().nonnegative() })
    .optional()
    .describe('the pods grouped into this finding'),
  related: z
    .array(z.string())
    .optional()
    .describe('other objects whose symptom this finding explains (Kind/namespace/name)'),
  risk: RiskLevelSchema.describe('the highest risk among the actions'),
  actions: z.array(RemediationActionSchema),
  analyze: z.string().describe('the command that analyses (and can fix) this object'),
});
export type ScanFinding = z.infer<typeof ScanFindingSchema>;

export const ScanReportSchema = z.strictObject({
  scope: z.strictObject({
    allNamespaces: z.boolean(),
    namespaces: z.array(z.string()).optional(),
    labelSelector: z.string().optional(),
  }),
  findings: z.array(ScanFindingSchema),
  checked: z
    .record(z.string(), z.number().int().nonnegative())
    .describe('objects read, per kind (after the label selector)'),
  settling: z
    .number()
    .int()
    .nonnegative()
    .describe('objects that are still starting and were not judged yet'),
  apiCalls: z.number().int().nonnegative(),
  durationMs: z.number().nonnegative(),
  partial: z.boolean().describe('true when some reads failed or were not permitted'),
  notes: z.array(z.string()),
});
export type ScanReport = z.infer<typeof ScanReportSchema>;
