import { z } from 'zod';
import {
  RemediateInputSchema,
  RemediateOutputSchema,
  RemediationActionSchema,
  ExecutionResultSchema,
  CategorySchema,
} from './schemas.js';
import { ScanReportSchema, ScanRequestSchema } from './scan.js';

/** JSON Schemas (draft 2020-12) derived from the zod contract schemas. */
export function contractJsonSchemas(): Record<string, unknown> {
  return {
    RemediateInput: z.toJSONSchema(RemediateInputSchema, { io: 'input', unrepresentable: 'any' }),
    RemediateOutput: z.toJSONSchema(RemediateOutputSchema, { io: 'output', unrepresentable: 'any' }),
    RemediationAction: z.toJSONSchema(RemediationActionSchema, { io: 'output', unrepresentable: 'any' }),
    ExecutionResult: z.toJSONSchema(ExecutionResultSchema, { io: 'output', unrepresentable: 'any' }),
    Category: z.toJSONSchema(CategorySchema),
    ScanRequest: z.toJSONSchema(ScanRequestSchema, { io: 'input', unrepresentable: 'any' }),
    ScanReport: z.toJSONSchema(ScanReportSchema, { io: 'output', unrepresentable: 'any' }),
  };
}
