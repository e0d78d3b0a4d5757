/**
 * The model's answer as an `AiFinding`: quotes checked verbatim against what the model was given,
 * actions through the scope gates, confidence lowered for what could not be verified, names restored,
 * and every caveat of the run in `factors`.
 */
import { sanitizeLogLine } from '../../context/log-summary.js';
import type { ParsedAnswer } from './answer.js';
import type { IncidentDocument } from './document.js';
import type { AiFinding } from './port.js';
import { gateProposals } from './proposals.js';
import { isRepairNote } from './repair.js';

/** Confidence never above this: a model alone is never certain. */
const MAX_CONFIDENCE = 0.95;

export function findingOf(
  parsed: ParsedAnswer,
  notes: readonly string[],
  document: IncidentDocument,
  namespace: string | undefined,
  restore: (text: string) => string,
): AiFinding {
  const { answer } = parsed;
  const { evidence, dropped } = document.evidence.verify(answer.evidence, restore);
  const restoreDeep = <T>(value: T): T => JSON.parse(restore(JSON.stringify(value))) as T;
  const gate = gateProposals(restoreDeep(answer.actions), namespace);

  let confidence = Math.min(answer.confidence, MAX_CONFIDENCE);
  if (dropped > 0) confidence -= 0.1 * dropped;
  if (evidence.length === 0 && answer.category !== 'unknown') confidence = Math.min(confidence, 0.4);
  if (answer.category === 'unknown') confidence = Math.min(confidence, 0.3);
  confidence = Math.round(Math.max(0, Math.min(1, confidence)) * 100) / 100;

  const factors = answer.factors.map((factor) => restore(sanitizeLogLine(factor, 300)));
  if (dropped > 0)
    factors.push(
      `${dropped} quote(s) the model cited were not found verbatim in the context and were dropped; confidence lowered`,
    );
  if (parsed.ignoredFields.length > 0)
    factors.push(
      `ignored fields the model may not set: ${parsed.ignoredFields.map((field) => sanitizeLogLine(field, 40)).join(', ')}`,
    );
  if (parsed.invalidActions > 0)
    factors.push(`${parsed.invalidActions} malformed action(s) from the model were dropped`);
  factors.push(...gate.notes, ...notes.filter((note) => !isRepairNote(note)));

  return {
    category: answer.category,
    rootCause: restore(sanitizeLogLine(answer.rootCause, 1_000)),
    confidence,
    factors,
    evidence,
    droppedEvidence: dropped,
    proposals: gate.proposals,
  };
}
