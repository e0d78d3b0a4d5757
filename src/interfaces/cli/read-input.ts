/**
 * Streaming input: parse a RemediateInput document without ever holding its log lines. Each element
 * of `context.logs` goes into the bounded LogSummarizer as it is parsed and is then dropped, so a
 * million-line context is analysed in bounded memory.
 */
import type { Readable } from 'node:stream';
import { JSONParser } from '@streamparser/json';
import {
  type FieldIssue,
  INPUT_MAX_BYTES,
  InvalidInputError,
  KubemendError,
  parseRemediateInput,
  type RemediateInput,
} from '../../domain/index.js';
import { LogSummarizer, type LogSummary } from '../../context/log-summary.js';
import { ParallelLogSummarizer } from '../../context/parallel-log-summary.js';

export interface ParsedInput {
  readonly input: RemediateInput;
  /** The summary of `context.logs`, when the document had any. */
  readonly logs?: LogSummary;
  readonly bytes: number;
}

export interface ReadOptions {
  readonly maxBytes?: number;
  /** Summarise logs on a worker thread (for large inputs: parsing and templating overlap). */
  readonly parallel?: boolean;
}

export async function readInputStream(stream: Readable, options: ReadOptions = {}): Promise<ParsedInput> {
  const maxBytes = options.maxBytes ?? INPUT_MAX_BYTES;
  const summarizer = options.parallel ? new ParallelLogSummarizer() : new LogSummarizer();
  let sawLogs = false;
  let document: unknown;
  let bytes = 0;
  const issues: FieldIssue[] = [];
  const parser = new JSONParser({ paths: ['$', '$.context.logs.*'], keepStack: true });
  parser.onValue = ({ value, key, parent, stack }) => {
    if (stack.length === 0) {
      document = value;
      return;
    }
    sawLogs = true;
    if (typeof value === 'string') summarizer.add(value);
    else if (issues.length < 5)
      issues.push({ path: `context.logs[${String(key)}]`, message: 'expected a string (one log line)' });
    // Drop the line from the document being built: it lives on only in the summary.
    if (Array.isArray(parent)) parent.pop();
  };
  // Only the JSON parser's complaints are the caller's fault; anything else is ours.
  const parse = (buffer?: Buffer): void => {
    try {
      if (buffer) parser.write(buffer);
      else if (!parser.isEnded) parser.end();
    } catch (error) {
      throw new InvalidInputError([{ path: '', message: `not valid JSON: ${(error as Error).message}` }]);
    }
  };
  try {
    for await (const chunk of stream) {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      bytes += buffer.length;
      if (bytes > maxBytes) {
        stream.destroy();
        throw new InvalidInputError(
          [{ path: '', message: `input is larger than the limit of ${maxBytes} bytes` }],
          'input-too-large',
        );
      }
      parse(buffer);
      if (summarizer instanceof ParallelLogSummarizer) await summarizer.backpressure();
    }
    if (bytes === 0) {
      throw new InvalidInputError([
        { path: '', message: 'no input: expected a RemediateInput JSON document' },
      ]);
    }
    parse();
  } catch (error) {
    if (summarizer instanceof ParallelLogSummarizer) await summarizer.abort();
    if (error instanceof KubemendError) throw error;
    throw new KubemendError('internal', `reading the input failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const logs = await summarizer.finish();
  if (document === undefined)
    throw new InvalidInputError([{ path: '', message: 'not valid JSON: the document is incomplete' }]);
  if (issues.length > 0) throw new InvalidInputError(issues);
  const parsed = parseRemediateInput(document);
  if (!parsed.ok) throw parsed.error;
  return { input: parsed.value, logs: sawLogs ? logs : undefined, bytes };
}
