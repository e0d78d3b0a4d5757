/**
 * The text the model was given, indexed so that every quote it cites can be checked verbatim.
 * Segments are kept in the model's view (sanitised, redacted, pseudonymised): a quote counts only if
 * it appears in what was sent, word for word (whitespace runs aside).
 */
import type { Evidence, EvidenceKind, EvidenceOrigin } from '../../domain/index.js';

export interface EvidenceSegment {
  readonly text: string;
  readonly kind: EvidenceKind;
  readonly origin: EvidenceOrigin;
  /** kind/namespace/name of the object the text belongs to. */
  readonly object?: string;
}

/** Quotes shorter than this prove nothing ("error", "137"). */
export const MIN_QUOTE_LENGTH = 8;

const squashSpace = (text: string): string => text.replace(/\s+/g, ' ').trim();

/** Undo the escapes a model may keep when it quotes from JSON text. */
function unescapeJsonish(text: string): string {
  return text
    .replace(/\\(["\\/])/g, '$1')
    .replace(/\\n/g, '\n')
    .replace(/\\t/g, '\t');
}

export class EvidenceIndex {
  private readonly segments: Array<EvidenceSegment & { readonly squashed: string }> = [];

  add(segment: EvidenceSegment): void {
    if (segment.text.length === 0) return;
    this.segments.push({ ...segment, squashed: squashSpace(segment.text) });
  }

  get size(): number {
    return this.segments.length;
  }

  /** The segment that holds the quote verbatim, or undefined. Leaf texts are preferred over renderings. */
  find(quote: string): EvidenceSegment | undefined {
    const candidates = [...new Set([quote.trim(), unescapeJsonish(quote.trim())])]
      .map(squashSpace)
      .filter((candidate) => candidate.length >= MIN_QUOTE_LENGTH);
    for (const candidate of candidates) {
      const found = this.segments.find((segment) => segment.squashed.includes(candidate));
      if (found) return found;
    }
    return undefined;
  }

  /**
   * Split quotes into verified evidence and a count of quotes not found. `restore` maps the model's
   * view back (pseudonyms → names) for what is reported.
   */
  verify(
    quotes: readonly string[],
    restore: (text: string) => string = (text) => text,
  ): { evidence: Evidence[]; dropped: number } {
    const evidence: Evidence[] = [];
    let dropped = 0;
    const seen = new Set<string>();
    for (const quote of quotes) {
      const key = squashSpace(quote);
      if (seen.has(key)) continue;
      seen.add(key);
      const segment = this.find(quote);
      if (!segment) {
        dropped += 1;
        continue;
      }
      evidence.push({
        quote: restore(quote.trim()),
        kind: segment.kind,
        origin: segment.origin,
        ...(segment.object ? { object: restore(segment.object) } : {}),
      });
    }
    return { evidence, dropped };
  }
}
