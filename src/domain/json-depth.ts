/**
 * The nesting limit of every JSON document kubemend reads (an HTTP body, an MCP tool's arguments, a
 * CLI input): at most `MAX_JSON_DEPTH` objects and arrays inside one another, the document itself
 * counting as the first. Real Kubernetes manifests stay far below it (a Pod with affinity rules
 * nests about 12 levels); far deeper documents are attacks on recursive code (digests, storage).
 * The check walks the parsed value with an explicit stack, so it cannot overflow itself.
 */
import { type FieldIssue, formatPath } from './errors.js';

export const MAX_JSON_DEPTH = 64;

/** Path segments shown before `…` in a message: the start of the path names the field. */
const SHOWN_SEGMENTS = 8;
const SHOWN_KEY_LENGTH = 40;

/** The issue for a value nested too deeply at `path` (its segments from the document's root). */
export function nestingIssue(path: readonly PropertyKey[], limit: number = MAX_JSON_DEPTH): FieldIssue {
  const shown = path
    .slice(0, SHOWN_SEGMENTS)
    .map((segment) =>
      typeof segment === 'string' && segment.length > SHOWN_KEY_LENGTH
        ? `${segment.slice(0, SHOWN_KEY_LENGTH)}…`
        : segment,
    );
  return {
    path: `${formatPath(shown)}${path.length > SHOWN_SEGMENTS ? '…' : ''}`,
    message: `nested deeper than ${limit} levels of objects and arrays (the limit for any document)`,
  };
}

interface Frame {
  readonly value: object;
  readonly depth: number;
  readonly key: PropertyKey | undefined;
  readonly parent: Frame | undefined;
}

function pathOf(frame: Frame): PropertyKey[] {
  const path: PropertyKey[] = [];
  for (let at: Frame | undefined = frame; at?.parent !== undefined; at = at.parent) path.push(at.key!);
  return path.reverse();
}

/** Where `value` first nests deeper than `limit` levels, or undefined when it does not. */
export function excessiveNesting(value: unknown, limit: number = MAX_JSON_DEPTH): FieldIssue | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const stack: Frame[] = [{ value, depth: 1, key: undefined, parent: undefined }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if (frame.depth > limit) return nestingIssue(pathOf(frame), limit);
    // Pushed in reverse, so the first offending field in document order is the one named.
    const depth = frame.depth + 1;
    if (Array.isArray(frame.value)) {
      const items: readonly unknown[] = frame.value;
      for (let index = items.length - 1; index >= 0; index--) {
        const child = items[index];
        if (child !== null && typeof child === 'object')
          stack.push({ value: child, depth, key: index, parent: frame });
      }
    } else {
      const record = frame.value as Record<string, unknown>;
      const keys = Object.keys(record);
      for (let index = keys.length - 1; index >= 0; index--) {
        const child = record[keys[index]!];
        if (child !== null && typeof child === 'object')
          stack.push({ value: child, depth, key: keys[index], parent: frame });
      }
    }
  }
  return undefined;
}
