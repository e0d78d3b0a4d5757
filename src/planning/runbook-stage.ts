/**
 * The runbook stage of planning: after the built-in builders (and the model's proposals), each
 * runbook that matches the finding adds its actions, in configuration order. An action the plan
 * already holds — the same type on the same object — is not added twice: the earlier one (a
 * built-in or an earlier runbook) stands, and a note says so. The drafts then take the same path
 * as every other: guards, protected namespaces, deterministic risk (the runbook's `minRisk` may
 * raise it, never lower it), schema validation, policy.
 */
import { type ActionDraft, objectLabel } from '../domain/index.js';
import type { Facts } from '../analysis/facts.js';
import type { Finding } from '../analysis/finding.js';
import { expandRunbook } from '../runbooks/expand.js';
import { matchRunbook } from '../runbooks/match.js';
import type { Runbook } from '../runbooks/schema.js';

const keyOf = (draft: ActionDraft): string => `${draft.type} ${objectLabel(draft.target)}`;

export function runbookDrafts(
  runbooks: readonly Runbook[],
  finding: Finding,
  facts: Facts,
  earlier: readonly ActionDraft[],
): { drafts: ActionDraft[]; notes: string[] } {
  const drafts: ActionDraft[] = [];
  const notes: string[] = [];
  const seen = new Set(earlier.filter((draft) => draft.type !== 'manual').map(keyOf));
  for (const runbook of runbooks) {
    const matched = matchRunbook(runbook, finding, facts);
    if (!matched) continue;
    notes.push(`runbook ${runbook.name} matched: ${matched.reasons.join('; ')}`);
    const expanded = expandRunbook(runbook, finding, matched);
    notes.push(...expanded.notes);
    for (const draft of expanded.drafts) {
      const key = keyOf(draft);
      if (draft.type !== 'manual' && seen.has(key)) {
        notes.push(`runbook ${runbook.name}: ${key} is already proposed; the earlier action stands`);
        continue;
      }
      seen.add(key);
      drafts.push(draft);
    }
  }
  return { drafts, notes };
}
