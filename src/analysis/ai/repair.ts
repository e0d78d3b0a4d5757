/**
 * What the loop does with the model's replies when they are not a valid answer: an invalid answer
 * gets one repair message listing the problems; tool calls after the budget is used up are answered
 * "not executed" once. Either grants one model call beyond the step budget, and only one. The best
 * answer so far is kept throughout: a valid answer, else the valid core of an invalid one (malformed
 * actions dropped), so that a failed repair or a timeout still has something to return.
 */
import { type ParsedAnswer, parseAnswer, salvageAnswer } from './answer.js';
import type { ChatMessage } from './model.js';
import { repairMessage } from './prompt.js';

export type ReplyVerdict =
  /** A valid answer: the loop is done. */
  | { readonly verdict: 'answered' }
  /** Invalid: send these messages and ask once more. */
  | { readonly verdict: 'repair'; readonly messages: readonly ChatMessage[] }
  /** Invalid after the one extra call: stop, noting why. */
  | { readonly verdict: 'give-up'; readonly note: string };

const INVALID_AFTER_REPAIR = "the model's answer was invalid";

export class AnswerRepair {
  /** The best answer so far. */
  best: ParsedAnswer | undefined;
  private bestIsSalvage = false;
  /** Model calls granted beyond the step budget: one, for a repair or the answer after refused tools. */
  extraCalls = 0;
  private toolsRefused = false;

  /**
   * The model called tools when it may not (budget used up, or no cluster). The first time it gets
   * one more call for its answer; the second time the loop stops.
   */
  refuseTools(): { readonly again: true } | { readonly again: false; readonly note: string } {
    if (this.toolsRefused)
      return { again: false, note: 'the model kept calling tools after its budget was used up' };
    this.toolsRefused = true;
    this.extraCalls = 1;
    return { again: true };
  }

  /** A text reply: the answer, a repair request, or the end. */
  accept(text: string): ReplyVerdict {
    const parsed = parseAnswer(text);
    if (parsed.ok) {
      this.best = parsed.value;
      this.bestIsSalvage = false;
      return { verdict: 'answered' };
    }
    const salvaged = parsed.raw !== undefined ? salvageAnswer(parsed.raw) : undefined;
    if (salvaged && (!this.best || this.bestIsSalvage)) {
      this.best = salvaged;
      this.bestIsSalvage = true;
    }
    if (this.extraCalls >= 1)
      return {
        verdict: 'give-up',
        note: `${INVALID_AFTER_REPAIR} after one repair attempt: ${parsed.problems.slice(0, 3).join('; ')}`,
      };
    this.extraCalls = 1;
    return {
      verdict: 'repair',
      messages: [
        { role: 'assistant', text: text || '(empty reply)', toolCalls: [] },
        { role: 'user', content: repairMessage(parsed.problems) },
      ],
    };
  }

  /** The note for an outcome built from a salvaged answer, if it is one. */
  salvageNote(): string | undefined {
    return this.best && this.bestIsSalvage
      ? `kept the valid part of the model's answer (${this.best.invalidActions} malformed action(s) dropped)`
      : undefined;
  }
}

/** Loop notes that describe the repair rather than the diagnosis (left out of the finding's factors). */
export function isRepairNote(note: string): boolean {
  return note.startsWith(INVALID_AFTER_REPAIR);
}
