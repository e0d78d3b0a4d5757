import { describe, expect, it } from 'vitest';
import { LogSummarizer, retainedLines, sanitizeLogLine, summarizeLogs, templateOf } from './log-summary.js';

describe('log summarisation', () => {
  it('collapses repeats into templates with counts', () => {
    const lines = Array.from(
      { length: 500 },
      (_, i) => `2026-11-25T10:00:${String(i % 60).padStart(2, '0')}Z GET /orders/${i} 200 in ${i % 17}ms`,
    );
    lines.push('FATAL missing required environment variable PAYMENTS_URL');
    const summary = summarizeLogs(lines);
    expect(summary.totalLines).toBe(501);
    expect(summary.templates[0]).toMatchObject({ count: 500, important: false });
    expect(summary.templates.find((t) => t.important)?.first.line).toContain('PAYMENTS_URL');
    expect(summary.tail.at(-1)?.line).toContain('FATAL');
  });

  it('treats numbers and hex ids as variables', () => {
    expect(templateOf('req 4f3a9c id=12 took 33ms')).toBe(templateOf('req 8b21ee id=99 took 7ms'));
    expect(templateOf('connection refused')).toBe('connection refused');
  });

  it('keeps the first and last lines and every distinct error, bounded', () => {
    const summarizer = new LogSummarizer({
      maxTemplates: 10,
      headLines: 3,
      tailLines: 5,
      overflowImportant: 4,
    });
    for (let i = 0; i < 10_000; i++)
      summarizer.add(
        `unique-line-${'x'.repeat(i % 50)}-${String.fromCharCode(97 + (i % 26))}${i % 3 === 0 ? ' error' : ''}`,
      );
    const summary = summarizer.finish();
    expect(summary.templates.length).toBeLessThanOrEqual(10);
    expect(summary.head).toHaveLength(3);
    expect(summary.tail).toHaveLength(5);
    expect(summary.tail.at(-1)?.index).toBe(9_999);
    expect(summary.overflow.length).toBeLessThanOrEqual(4);
    expect(summary.untrackedLines).toBeGreaterThan(0);
    expect(retainedLines(summary).length).toBeLessThanOrEqual(3 + 2 * 10 + 4 + 5);
  });

  it('strips control characters and ANSI colours, and cuts very long lines', () => {
    expect(sanitizeLogLine('\u001b[31mERROR\u001b[0m boom\u0007')).toBe('ERROR boom ');
    const summary = summarizeLogs(['y'.repeat(10_000)]);
    expect(summary.head[0]!.line.length).toBeLessThanOrEqual(2001);
    expect(summary.truncatedLines).toBe(1);
  });

  it('handles a million lines in one pass', () => {
    const summarizer = new LogSummarizer();
    for (let i = 0; i < 1_000_000; i++) summarizer.add(`INFO handled request ${i}`);
    summarizer.add('panic: runtime error: invalid memory address or nil pointer dereference');
    const summary = summarizer.finish();
    expect(summary.totalLines).toBe(1_000_001);
    expect(summary.templates).toHaveLength(2);
    expect(retainedLines(summary).some((line) => line.line.startsWith('panic:'))).toBe(true);
  });

  it("counts every retained line's repeats, its template's first and last lines and the others", () => {
    const lines = [
      ...Array.from({ length: 30 }, (_, i) => `GET /orders/${i} 200`),
      'FATAL cannot reach db',
      ...Array.from({ length: 30 }, (_, i) => `GET /orders/${i + 30} 200`),
      'exited 1',
    ];
    const summary = new LogSummarizer({ headLines: 3, tailLines: 4 }).addAll(lines).finish();
    const retained = retainedLines(summary);
    const repeats = (line: string) => retained.find((entry) => entry.line === line)?.repeats;
    expect(repeats('GET /orders/0 200')).toBe(60); // head, its template's first line
    expect(repeats('GET /orders/1 200')).toBe(60); // head only: found by its template
    expect(repeats('GET /orders/58 200')).toBe(60); // tail only
    expect(repeats('GET /orders/59 200')).toBe(60); // its template's last line
    expect(repeats('FATAL cannot reach db')).toBe(1);
    expect(repeats('exited 1')).toBe(1);
    expect(retained.map((entry) => entry.index)).toEqual(
      [...retained.map((entry) => entry.index)].sort((a, b) => a - b),
    );
  });
});
