import type { z } from 'zod';
import { type FieldIssue, formatPath, InvalidInputError } from './errors.js';
import { excessiveNesting } from './json-depth.js';
import { type Result, err, ok } from './result.js';
import { type RemediateInput, RemediateInputSchema } from './schemas.js';

/** Turn zod issues into field issues that name each offending field. */
export function toFieldIssues(issues: readonly z.core.$ZodIssue[]): FieldIssue[] {
  const out: FieldIssue[] = [];
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({ path: formatPath([...issue.path, key]), message: 'unknown field' });
      }
      continue;
    }
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // Report the branch that got furthest rather than "invalid input".
      const deepest = [...issue.errors].sort((a, b) => maxDepth(b) - maxDepth(a))[0] ?? [];
      const nested = toFieldIssues(
        deepest.map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] })),
      );
      if (nested.length > 0) {
        out.push(...nested);
        continue;
      }
    }
    out.push({ path: formatPath(issue.path), message: issue.message });
  }
  return out;
}

function maxDepth(issues: readonly z.core.$ZodIssue[]): number {
  return issues.reduce((depth, issue) => Math.max(depth, issue.path.length), 0);
}

export function parseRemediateInput(value: unknown): Result<RemediateInput, InvalidInputError> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return err(new InvalidInputError([{ path: '', message: 'expected a JSON object (RemediateInput)' }]));
  }
  const tooDeep = excessiveNesting(value);
  if (tooDeep) return err(new InvalidInputError([tooDeep]));
  const parsed = RemediateInputSchema.safeParse(value);
  if (parsed.success) return ok(parsed.data);
  return err(new InvalidInputError(toFieldIssues(parsed.error.issues)));
}
