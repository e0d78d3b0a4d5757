/**
 * Bounded, streaming log summarisation. A context may carry a million log lines; we look at each
 * once, collapse repeats into templates with counts, and keep only what analysis needs: the
 * first lines, the last lines before exit, and every distinct kind of error line (first and last
 * occurrence). Memory stays bounded whatever the input size.
 */

export interface LogLimits {
  /** Distinct templates tracked with counts. */
  readonly maxTemplates: number;
  /** Lines kept from the start of the log. */
  readonly headLines: number;
  /** Lines kept from the end of the log (the last lines before exit). */
  readonly tailLines: number;
  /** Important lines kept when the template table is full. */
  readonly overflowImportant: number;
  /** Longer lines are cut to this many characters. */
  readonly maxLineLength: number;
}

export const DEFAULT_LOG_LIMITS: LogLimits = {
  maxTemplates: 1000,
  headLines: 20,
  tailLines: 60,
  overflowImportant: 100,
  maxLineLength: 2000,
};

export interface LogLine {
  /** 0-based position of the line in the whole log. */
  readonly index: number;
  readonly line: string;
}

export interface LogTemplate {
  readonly template: string;
  readonly count: number;
  readonly important: boolean;
  readonly first: LogLine;
  readonly last: LogLine;
}

export interface LogSummary {
  readonly totalLines: number;
  readonly templates: readonly LogTemplate[];
  readonly head: readonly LogLine[];
  readonly tail: readonly LogLine[];
  /** Important lines seen after the template table filled up. */
  readonly overflow: readonly LogLine[];
  readonly truncatedLines: number;
  readonly untrackedLines: number;
}

// Control characters and ANSI escape sequences never reach analysis or a model.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
// eslint-disable-next-line no-control-regex
const HAS_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

/**
 * Numbers, and hex ids from their first digit on, become `#` so that repeats share one template.
 * (A deliberately cheap pattern: templating runs once per line of a possibly huge log.)
 */
const VARIABLE = /\d[\da-fA-F]*/g;

const IMPORTANT =
  /error|\berr\b|fatal|panic|exception|traceback|caused by|fail|refused|denied|forbidden|unauthori[sz]ed|killed|out of ?memory|\boom|timeout|timed out|deadline|no such|not found|cannot|can't|unable|invalid|missing|crash|segfault|sigsegv|sigterm|sigkill|abort|exit(?:ed|ing)?\b|x509|certificate|read-only|permission|warn|must be set|required|not set|undefined/i;

export function sanitizeLogLine(line: string, maxLength: number = DEFAULT_LOG_LIMITS.maxLineLength): string {
  let out = line;
  if (HAS_CONTROL.test(out)) out = out.replace(ANSI, '').replace(CONTROL, ' ');
  if (out.length > maxLength) out = `${out.slice(0, maxLength)}…`;
  return out;
}

export function templateOf(line: string): string {
  return line.replace(VARIABLE, '#');
}

export function isImportantLine(line: string): boolean {
  return IMPORTANT.test(line);
}

interface MutableTemplate {
  readonly template: string;
  count: number;
  readonly important: boolean;
  readonly first: LogLine;
  last: LogLine;
}

export class LogSummarizer {
  private readonly limits: LogLimits;
  private readonly templates = new Map<string, MutableTemplate>();
  private readonly head: LogLine[] = [];
  private readonly tail: LogLine[] = [];
  private tailStart = 0;
  private readonly overflow: LogLine[] = [];
  private total = 0;
  private truncated = 0;
  private untracked = 0;

  constructor(limits: Partial<LogLimits> = {}) {
    this.limits = { ...DEFAULT_LOG_LIMITS, ...limits };
  }

  add(raw: string): void {
    const index = this.total++;
    const line = sanitizeLogLine(raw, this.limits.maxLineLength);
    if (line.length !== raw.length && raw.length > this.limits.maxLineLength) this.truncated++;
    const entry: LogLine = { index, line };

    if (this.head.length < this.limits.headLines) this.head.push(entry);
    this.pushTail(entry);

    const key = templateOf(line);
    const known = this.templates.get(key);
    if (known) {
      known.count++;
      known.last = entry;
      return;
    }
    if (this.templates.size < this.limits.maxTemplates) {
      this.templates.set(key, {
        template: key,
        count: 1,
        important: isImportantLine(line),
        first: entry,
        last: entry,
      });
      return;
    }
    this.untracked++;
    if (isImportantLine(line)) {
      if (this.overflow.length >= this.limits.overflowImportant) this.overflow.shift();
      this.overflow.push(entry);
    }
  }

  addAll(lines: Iterable<string>): this {
    for (const line of lines) this.add(line);
    return this;
  }

  private pushTail(entry: LogLine): void {
    const size = this.limits.tailLines;
    if (size === 0) return;
    if (this.tail.length < size) {
      this.tail.push(entry);
      return;
    }
    this.tail[this.tailStart] = entry;
    this.tailStart = (this.tailStart + 1) % size;
  }

  finish(): LogSummary {
    const tail = [...this.tail.slice(this.tailStart), ...this.tail.slice(0, this.tailStart)];
    const templates = [...this.templates.values()]
      .map((template) => ({ ...template }))
      .sort((a, b) => b.count - a.count || a.first.index - b.first.index);
    return {
      totalLines: this.total,
      templates,
      head: [...this.head],
      tail,
      overflow: [...this.overflow],
      truncatedLines: this.truncated,
      untrackedLines: this.untracked,
    };
  }
}

export function summarizeLogs(lines: Iterable<string> | undefined, limits?: Partial<LogLimits>): LogSummary {
  return new LogSummarizer(limits).addAll(lines ?? []).finish();
}

export const EMPTY_LOG_SUMMARY: LogSummary = summarizeLogs([]);

/**
 * Every distinct retained line, in log order, each once, with how often its template repeats.
 * This is what rules search: bounded by the limits, never the whole log.
 */
export function retainedLines(summary: LogSummary): Array<LogLine & { readonly repeats: number }> {
  const byIndex = new Map<number, LogLine & { repeats: number }>();
  const repeatsOf = new Map<string, number>();
  // A template's first and last lines are known to be of it: their text finds the count without
  // templating the line again (most retained lines are one of them).
  const repeatsOfLine = new Map<string, number>();
  for (const template of summary.templates) {
    repeatsOf.set(template.template, template.count);
    repeatsOfLine.set(template.first.line, template.count);
    repeatsOfLine.set(template.last.line, template.count);
  }
  const put = (entry: LogLine): void => {
    if (byIndex.has(entry.index)) return;
    const repeats = repeatsOfLine.get(entry.line) ?? repeatsOf.get(templateOf(entry.line)) ?? 1;
    byIndex.set(entry.index, { index: entry.index, line: entry.line, repeats });
  };
  for (const entry of summary.head) put(entry);
  for (const template of summary.templates) {
    if (template.important || template.count > 1) {
      put(template.first);
      put(template.last);
    }
  }
  for (const entry of summary.overflow) put(entry);
  for (const entry of summary.tail) put(entry);
  return [...byIndex.values()].sort((a, b) => a.index - b.index);
}
