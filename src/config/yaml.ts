/**
 * YAML, loaded on first use: only a configuration, tokens, policy or runbook file needs it, and
 * loading the library costs a CLI run that reads none of them a noticeable share of its start-up.
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

let library: typeof Yaml | undefined;

function yaml(): typeof Yaml {
  library ??= createRequire(import.meta.url)('yaml') as typeof Yaml;
  return library;
}

export function parseYaml(text: string): unknown {
  return yaml().parse(text);
}

/** A YAML text's documents with positions: for messages that name the file, line and field. */
export interface LocatedDocument {
  readonly value: unknown;
  /** Syntax errors, each with its line. */
  readonly errors: ReadonlyArray<{ readonly line: number; readonly message: string }>;
  /** The 1-based line of the node at `path` (or of its nearest ancestor that exists). */
  lineOf(path: ReadonlyArray<string | number>): number | undefined;
}

export function parseYamlDocuments(text: string): LocatedDocument[] {
  const { parseAllDocuments, LineCounter, isCollection } = yaml();
  const lines = new LineCounter();
  const documents = parseAllDocuments(text, { lineCounter: lines });
  const list = Array.isArray(documents) ? documents : [];
  return list.map((document) => ({
    value: document.toJS() as unknown,
    errors: document.errors.map((error) => ({
      line: lines.linePos(error.pos[0]).line,
      message: error.message.split('\n')[0] ?? error.message,
    })),
    lineOf(path) {
      for (let depth = path.length; depth >= 0; depth--) {
        const prefix = path.slice(0, depth);
        const node = prefix.length === 0 ? document.contents : document.getIn(prefix, true);
        const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
        if (range) {
          // A key whose value is a collection: point at the key's line, not the first child's.
          const parent = depth > 0 ? document.getIn(path.slice(0, depth - 1), true) : undefined;
          const pair = isCollection(parent)
            ? (parent.items as Array<{ key?: { range?: [number, number, number]; value?: unknown } }>).find(
                (item) => item.key !== undefined && (item.key as { value?: unknown }).value === prefix.at(-1),
              )
            : undefined;
          return lines.linePos(pair?.key?.range?.[0] ?? range[0]).line;
        }
      }
      return undefined;
    },
  }));
}
