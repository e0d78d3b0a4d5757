/**
 * A matched runbook's action templates → typed action drafts. The substitution is deliberately
 * tiny: `{{ reference }}` is replaced by a value (no expressions, no code); a template that is only
 * a placeholder keeps the value's type (a number stays a number). Text captured from logs or
 * events is untrusted: it may only fill a placeholder if it is a plain name (letters, digits, `.`,
 * `_`, `-`), so a log line cannot smuggle a different target, namespace or patch structure in.
 * Every draft then goes through the planner's guards, risk, schema and policy like any other.
 */
import { type ActionDraft, type ActionTarget, apiVersionOf } from '../domain/index.js';
import type { Finding } from '../analysis/finding.js';
import type { RunbookMatchResult } from './match.js';
import { type ActionTemplate, PLACEHOLDER, type Runbook } from './schema.js';

/** What untrusted captured text must look like to be used at all. */
export const SAFE_CAPTURE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

class TemplateError extends Error {}

type Scalar = string | number | boolean;

function resolve(reference: string, finding: Finding, matched: RunbookMatchResult): Scalar {
  const [head, ...rest] = reference.split('.');
  let value: unknown;
  if (head === 'target') value = matched.target?.[rest[0] as keyof NonNullable<typeof matched.target>];
  else if (head === 'finding' && rest[0] === 'category') value = finding.category;
  else if (head === 'finding') {
    value = finding.details;
    for (const key of rest.slice(1))
      value =
        value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  } else if (head === 'match') {
    value = matched.captures[rest[0] ?? ''];
    if (typeof value === 'string' && !SAFE_CAPTURE.test(value))
      throw new TemplateError(
        `{{ ${reference} }} captured ${JSON.stringify(value.slice(0, 80))}, which is not a plain name (letters, digits, . _ -)`,
      );
  }
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  throw new TemplateError(`{{ ${reference} }} has no value for this finding`);
}

function substitute(text: string, finding: Finding, matched: RunbookMatchResult): Scalar {
  const whole = /^\{\{\s*([^{}]*?)\s*\}\}$/.exec(text);
  if (whole) return resolve(whole[1] ?? '', finding, matched);
  return text.replace(PLACEHOLDER, (_, reference: string) => String(resolve(reference, finding, matched)));
}

function text(value: string, finding: Finding, matched: RunbookMatchResult): string {
  return String(substitute(value, finding, matched));
}

function deep(value: unknown, finding: Finding, matched: RunbookMatchResult): unknown {
  if (typeof value === 'string') return substitute(value, finding, matched);
  if (Array.isArray(value)) return value.map((item) => deep(item, finding, matched));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, deep(item, finding, matched)]),
    );
  return value;
}

function count(value: number | string, field: string, finding: Finding, matched: RunbookMatchResult): number {
  const resolved = typeof value === 'number' ? value : substitute(value, finding, matched);
  const number =
    typeof resolved === 'number' ? resolved : /^\d{1,5}$/.test(String(resolved)) ? Number(resolved) : NaN;
  if (!Number.isInteger(number))
    throw new TemplateError(`${field}: ${JSON.stringify(resolved)} is not a whole number`);
  return number;
}

function targetOf(template: ActionTemplate, finding: Finding, matched: RunbookMatchResult): ActionTarget {
  const name = text(template.target.name, finding, matched);
  const namespace =
    template.target.namespace === undefined
      ? matched.target?.namespace
      : text(template.target.namespace, finding, matched);
  if (!DNS_SUBDOMAIN.test(name))
    throw new TemplateError(`target.name ${JSON.stringify(name)} is not a valid object name`);
  if (namespace === undefined)
    throw new TemplateError('target.namespace: the finding has no namespace; name one');
  if (!DNS_LABEL.test(namespace))
    throw new TemplateError(`target.namespace ${JSON.stringify(namespace)} is not a valid namespace name`);
  return {
    apiVersion: template.target.apiVersion ?? apiVersionOf(template.target.kind),
    kind: template.target.kind,
    namespace,
    name,
  };
}

function draftOf(
  runbook: Runbook,
  template: ActionTemplate,
  finding: Finding,
  matched: RunbookMatchResult,
): ActionDraft {
  const target = targetOf(template, finding, matched);
  const description = text(template.description, finding, matched);
  const base = {
    target,
    description,
    rationale:
      template.rationale === undefined
        ? `runbook ${runbook.name} matched (${matched.reasons.join('; ')})`
        : text(template.rationale, finding, matched),
    verification:
      template.verification === undefined
        ? `${target.kind}/${target.name} becomes available and stays healthy`
        : text(template.verification, finding, matched),
    source: `runbook:${runbook.name}`,
    ...(runbook.minRisk ? { minimumRisk: runbook.minRisk } : {}),
  };
  switch (template.type) {
    case 'restart':
      return { ...base, type: 'restart', params: {} };
    case 'scale':
      return {
        ...base,
        type: 'scale',
        params: { replicas: count(template.params.replicas, 'params.replicas', finding, matched) },
      };
    case 'rollback':
      return {
        ...base,
        type: 'rollback',
        params:
          template.params.toRevision === undefined
            ? {}
            : { toRevision: count(template.params.toRevision, 'params.toRevision', finding, matched) },
      };
    case 'patch':
      return {
        ...base,
        type: 'patch',
        params: {
          patchType: template.params.patchType,
          patch: deep(template.params.patch, finding, matched) as Record<string, unknown>,
        },
      };
    case 'create': {
      const manifest = deep(template.params.manifest, finding, matched) as Record<string, unknown>;
      const metadata = (manifest['metadata'] ?? {}) as Record<string, unknown>;
      if (manifest['kind'] !== target.kind || metadata['name'] !== target.name)
        throw new TemplateError("params.manifest: its kind and metadata.name must be the target's");
      return {
        ...base,
        type: 'create',
        params: { manifest: { ...manifest, metadata: { ...metadata, namespace: target.namespace } } },
      };
    }
    case 'manual':
      return {
        ...base,
        type: 'manual',
        params: { instructions: text(template.params.instructions, finding, matched) },
      };
  }
}

/** The drafts of a matched runbook; an action whose template cannot be filled safely is left out with a note. */
export function expandRunbook(
  runbook: Runbook,
  finding: Finding,
  matched: RunbookMatchResult,
): { drafts: ActionDraft[]; notes: string[] } {
  const drafts: ActionDraft[] = [];
  const notes: string[] = [];
  runbook.actions.forEach((template, index) => {
    try {
      drafts.push(draftOf(runbook, template, finding, matched));
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      notes.push(
        `runbook ${runbook.name}: action ${index + 1} (${template.type}) left out: ${error.message}`,
      );
    }
  });
  return { drafts, notes };
}
