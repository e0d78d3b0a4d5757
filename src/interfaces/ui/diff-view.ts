/**
 * The change an action makes to its target, as a person reads it: both objects as YAML (keys
 * sorted, so only real changes differ), compared line by line (jsdiff's `structuredPatch`), shown
 * as hunks with three lines of context — one line per field.
 */
import { structuredPatch } from 'diff';
import { stringify } from 'yaml';
import type { ActionPreview, ObjectView } from '../../service/remediation-service.js';
import { type Html, html } from './html.js';

function yamlOf(view: ObjectView | undefined): string {
  return view === undefined ? '' : stringify(view, { sortMapEntries: true, lineWidth: 0 });
}

export interface DiffLine {
  readonly kind: 'context' | 'removed' | 'added' | 'hunk';
  readonly text: string;
}

const YAML_LINE = /^( *)(- )?(?:"?([^":#]+?)"?:(?: |$))?/;

function yamlLine(line: string): { indent: number; item: boolean; key?: string } {
  const match = YAML_LINE.exec(line)!;
  return { indent: match[1]!.length, item: match[2] !== undefined, ...(match[3] ? { key: match[3] } : {}) };
}

/** The position of a sequence item among its siblings. */
function itemIndex(lines: readonly string[], at: number): number {
  const { indent } = yamlLine(lines[at]!);
  let index = 0;
  for (let i = at - 1; i >= 0; i--) {
    const line = yamlLine(lines[i]!);
    if (line.indent < indent) break;
    if (line.item && line.indent === indent) index++;
  }
  return index;
}

/**
 * The field a line of kubemend's YAML stands for (`spec.template.spec.containers[0].resources`),
 * read from indentation: what a hunk header names so that three lines of context need no more.
 */
export function yamlPath(lines: readonly string[], at: number): string {
  const segments: string[] = [];
  const first = yamlLine(lines[at] ?? '');
  if (first.key) segments.unshift(first.key);
  if (first.item) segments.unshift(`[${itemIndex(lines, at)}]`);
  let threshold = first.indent;
  for (let i = at - 1; i >= 0 && threshold > 0; i--) {
    const line = yamlLine(lines[i]!);
    if (line.indent >= threshold) continue;
    if (line.item) {
      // Inside the item's mapping: the item's own first key is a sibling, not a parent.
      if (threshold < line.indent + 2 && line.key) segments.unshift(line.key);
      segments.unshift(`[${itemIndex(lines, i)}]`);
    } else if (line.key) segments.unshift(line.key);
    threshold = line.indent;
  }
  return segments.join('.').replace(/\.\[/g, '[');
}

/** The lines of the change from `before` to `after` (empty when nothing differs). */
export function diffLines(before: ObjectView | undefined, after: ObjectView | undefined): DiffLine[] {
  const oldText = yamlOf(before);
  const newText = yamlOf(after);
  const oldLines = oldText.split('\n');
  const newLines = newText.split('\n');
  const patch = structuredPatch('before', 'after', oldText, newText, '', '', { context: 3 });
  const lines: DiffLine[] = [];
  for (const hunk of patch.hunks) {
    // Name the field of the hunk's first change.
    let oldAt = hunk.oldStart - 1;
    let newAt = hunk.newStart - 1;
    let field = '';
    for (const line of hunk.lines) {
      if (line[0] === '+') {
        field = yamlPath(newLines, newAt);
        break;
      }
      if (line[0] === '-') {
        field = yamlPath(oldLines, oldAt);
        break;
      }
      oldAt++;
      newAt++;
    }
    lines.push({
      kind: 'hunk',
      text: `@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@${field ? ` ${field}` : ''}`,
    });
    for (const line of hunk.lines) {
      if (line.startsWith('\\')) continue; // "\ No newline at end of file"
      const kind = line[0] === '+' ? 'added' : line[0] === '-' ? 'removed' : 'context';
      lines.push({ kind, text: line });
    }
  }
  return lines;
}

function diffTable(lines: readonly DiffLine[], caption: string): Html {
  if (lines.length === 0)
    return html`<p class="muted">No difference in spec, data, labels or annotations.</p>`;
  return html`<figure class="diff">
    <figcaption>${caption}</figcaption>
    <pre>${lines.map((line) => html`<span class="${`diff-${line.kind}`}">${line.text} </span>`)}</pre>
  </figure>`;
}

/** The preview section of one action. */
export function renderPreview(preview: ActionPreview): Html {
  switch (preview.kind) {
    case 'dry-run':
      return diffTable(
        diffLines(preview.before, preview.after),
        preview.after === undefined
          ? 'The object as it is now; the server-side dry-run accepted deleting it'
          : 'The object now → as the server-side dry-run says it would be (nothing applied)',
      );
    case 'rejected':
      return html`<p class="refused" role="alert">
        The API server's dry-run refused this change: ${preview.reason}
      </p>`;
    case 'since-snapshot':
      return preview.after !== undefined
        ? diffTable(
            diffLines(preview.before, preview.after),
            'The snapshot taken before the change → the object now',
          )
        : html`<figure class="diff">
              <figcaption>The snapshot taken before the change</figcaption>
              <pre>${yamlOf(preview.before)}</pre>
            </figure>
            <p class="muted">
              ${preview.live ? 'The object no longer exists.' : 'No cluster is connected: the object now cannot be shown.'}
            </p>`;
    case 'unavailable':
      return html`<p class="muted">No preview: ${preview.reason}</p>`;
  }
}
