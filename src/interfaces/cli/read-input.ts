/**
 * Streaming input: parse a RemediateInput document without ever holding its log lines. Each element
 * of `context.logs` goes into the bounded LogSummarizer as it is parsed and is then dropped, so a
 * million-line context is analysed in bounded memory.
 */
import type { Readable } from 'node:stream';
import { TokenParser, Tokenizer, TokenType } from '@streamparser/json';
import {
  type FieldIssue,
  INPUT_MAX_BYTES,
  InvalidInputError,
  KubemendError,
  MAX_JSON_DEPTH,
  nestingIssue,
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

interface Container {
  /** Where this container sits in its parent (undefined for the document). */
  readonly key: PropertyKey | undefined;
  readonly array: boolean;
  /** Arrays: the index of the current element. Objects: the last key read. */
  position: PropertyKey;
  expectKey: boolean;
}

/**
 * Follows the tokens and refuses a container opened deeper than `MAX_JSON_DEPTH`, naming its path,
 * before the parser builds anything below it.
 */
class NestingGuard {
  private readonly open: Container[] = [];

  see(token: TokenType, value: unknown): void {
    const top = this.open.at(-1);
    switch (token) {
      case TokenType.LEFT_BRACE:
      case TokenType.LEFT_BRACKET: {
        const key = top?.position;
        if (this.open.length + 1 > MAX_JSON_DEPTH) {
          const path = [...this.open.slice(1).map((container) => container.key!), key!];
          throw new InvalidInputError([nestingIssue(path)]);
        }
        const array = token === TokenType.LEFT_BRACKET;
        this.open.push({ key, array, position: array ? 0 : '', expectKey: !array });
        return;
      }
      case TokenType.RIGHT_BRACE:
      case TokenType.RIGHT_BRACKET:
        this.open.pop();
        return;
      case TokenType.COMMA:
        if (top?.array) top.position = (top.position as number) + 1;
        else if (top) top.expectKey = true;
        return;
      case TokenType.STRING:
        if (top && !top.array && top.expectKey) {
          top.position = value as string;
          top.expectKey = false;
        }
        return;
      default:
        return;
    }
  }
}

/** The streaming parser: a tokenizer whose tokens pass the nesting guard, then the token parser. */
function streamingParser(paths: string[]): { tokenizer: Tokenizer; tokens: TokenParser } {
  const tokenizer = new Tokenizer();
  const tokens = new TokenParser({ paths, keepStack: true });
  const guard = new NestingGuard();
  tokenizer.onToken = (info) => {
    guard.see(info.token, info.value);
    tokens.write(info);
  };
  tokenizer.onEnd = () => {
    if (!tokens.isEnded) tokens.end();
  };
  tokens.onError = tokenizer.error.bind(tokenizer);
  tokens.onEnd = () => {
    if (!tokenizer.isEnded) tokenizer.end();
  };
  return { tokenizer, tokens };
}

export async function readInputStream(stream: Readable, options: ReadOptions = {}): Promise<ParsedInput> {
  const maxBytes = options.maxBytes ?? INPUT_MAX_BYTES;
  const summarizer = options.parallel ? new ParallelLogSummarizer() : new LogSummarizer();
  let sawLogs = false;
  let document: unknown;
  let bytes = 0;
  const issues: FieldIssue[] = [];
  const { tokenizer, tokens } = streamingParser(['$', '$.context.logs.*']);
  tokens.onValue = ({ value, key, parent, stack }) => {
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
      if (buffer) tokenizer.write(buffer);
      else if (!tokenizer.isEnded) tokenizer.end();
    } catch (error) {
      if (error instanceof KubemendError) throw error;
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
