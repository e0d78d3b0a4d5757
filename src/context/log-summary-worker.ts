/**
 * Worker side of ParallelLogSummarizer: summarises batches of log lines posted by the parser thread.
 * Messages in: `{ lines: string[] }` batches, then `{ finish: true }`. Out: `{ ack }` per batch
 * (for back-pressure), then `{ summary }`.
 */
import { parentPort } from 'node:worker_threads';
import { LogSummarizer } from './log-summary.js';

const summarizer = new LogSummarizer();
parentPort?.on('message', (message: { lines?: string[]; finish?: boolean }) => {
  if (message.lines) {
    for (const line of message.lines) summarizer.add(line);
    parentPort?.postMessage({ ack: true });
  }
  if (message.finish) parentPort?.postMessage({ summary: summarizer.finish() });
});
