/**
 * Summarise a very large log on the second core: the parsing thread batches lines to a worker
 * thread running the same LogSummarizer, so parsing and templating overlap. Used for large inputs
 * only (starting a worker costs tens of milliseconds).
 */
import { Worker } from 'node:worker_threads';
import type { LogSummary } from './log-summary.js';

const BATCH = 8192;
/** Batches posted but not yet summarised; the parser waits beyond this, bounding memory. */
const MAX_IN_FLIGHT = 4;

export class ParallelLogSummarizer {
  private readonly worker: Worker;
  private batch: string[] = [];
  private readonly done: Promise<LogSummary>;
  private inFlight = 0;
  private failure: Error | undefined;
  private waiters: Array<() => void> = [];

  constructor() {
    const typescript = import.meta.url.endsWith('.ts');
    const entry = new URL(`./log-summary-worker${typescript ? '.ts' : '.js'}`, import.meta.url);
    // Built JavaScript runs directly. From TypeScript sources (development, tests), the worker first
    // registers tsx's loader in its own thread, then loads the same module.
    this.worker = typescript
      ? new Worker(
          `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`,
          { eval: true },
        )
      : new Worker(entry);
    this.done = new Promise<LogSummary>((resolve, reject) => {
      this.worker.on('message', (message: { summary?: LogSummary; ack?: boolean }) => {
        if (message.ack) {
          this.inFlight--;
          const waiters = this.waiters;
          this.waiters = [];
          for (const wake of waiters) wake();
        }
        if (message.summary) resolve(message.summary);
      });
      const fail = (error: Error): void => {
        this.failure = error;
        for (const wake of this.waiters.splice(0)) wake();
        reject(error);
      };
      this.worker.once('error', fail);
      this.worker.once('exit', (code) => fail(new Error(`log summariser worker exited with code ${code}`)));
    });
    // Observe rejection so an early worker failure is reported by finish(), not as unhandled.
    this.done.catch(() => undefined);
  }

  add(line: string): void {
    this.batch.push(line);
    if (this.batch.length >= BATCH) this.flush();
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    this.worker.postMessage({ lines: this.batch });
    this.inFlight++;
    this.batch = [];
  }

  /** Resolves once the worker has caught up enough; call between input chunks. */
  async backpressure(): Promise<void> {
    while (this.inFlight > MAX_IN_FLIGHT && !this.failure)
      await new Promise<void>((wake) => this.waiters.push(wake));
    if (this.failure) throw this.failure;
  }

  async finish(): Promise<LogSummary> {
    this.flush();
    this.worker.postMessage({ finish: true });
    try {
      return await this.done;
    } finally {
      await this.worker.terminate();
    }
  }

  async abort(): Promise<void> {
    await this.worker.terminate();
  }
}
