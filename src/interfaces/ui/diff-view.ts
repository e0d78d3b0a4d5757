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

/** The lines of the change from `before` to `after` (empty when nothing differs). */
export function diffLines(before: ObjectView | undefined, after: ObjectView | undefined): DiffLine[] {
  const patch = structuredPatch('before', 'after', yamlOf(before), yamlOf(after), '', '', { context: 3 });
  const lines: DiffLine[] = [];
  for (const hunk of patch.hunks) {
    lines.push({
      kind: 'hunk',
      text: `@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`,
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
