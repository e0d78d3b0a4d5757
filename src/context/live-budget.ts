/**
 * The time and call budget of one live gathering, and what went wrong within it: every read runs
 * through `read`, which counts the call, gives up at the deadline, turns a failure into a note, and
 * remembers which namespaces refused kubemend (403) so that the answer can say so first.
 */
import { isApiError } from '../cluster/errors.js';
import type { AccessDenial } from './model.js';

export interface LiveBudget {
  readonly timeoutMs: number;
  readonly maxApiCalls: number;
  /** Log lines read per container (current and previous). */
  readonly tailLines?: number;
}

export class Budget {
  calls = 0;
  readonly notes: string[] = [];
  partial = false;
  private readonly deadline: number;
  private readonly refused = new Map<string, string[]>();

  constructor(private readonly limits: LiveBudget) {
    this.deadline = Date.now() + limits.timeoutMs;
  }

  get exhausted(): boolean {
    return this.calls >= this.limits.maxApiCalls || Date.now() >= this.deadline;
  }

  /**
   * Runs one read within the budget; a failure or an exhausted budget yields undefined and a note.
   * `namespace` is where the read looks: a 403 there is recorded as a denial of that namespace
   * (unless `quiet`, for probing reads whose refusal is expected and says nothing about the incident).
   */
  async read<T>(
    what: string,
    call: () => Promise<T>,
    options: { namespace?: string; quiet?: boolean } = {},
  ): Promise<T | undefined> {
    if (this.exhausted) {
      this.partial = true;
      if (!this.notes.includes('budget exhausted')) this.notes.push('budget exhausted');
      return undefined;
    }
    this.calls++;
    const remaining = Math.max(1, this.deadline - Date.now());
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        call(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error('timed out')), remaining);
        }),
      ]);
    } catch (error) {
      if (options.quiet && isApiError(error, 'forbidden')) return undefined;
      this.partial = true;
      if (isApiError(error, 'forbidden') && options.namespace) {
        const reads = this.refused.get(options.namespace) ?? [];
        reads.push(what);
        this.refused.set(options.namespace, reads);
      }
      this.notes.push(`${what}: ${(error as Error).message.split('\n')[0]!.slice(0, 160)}`);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Namespaces whose reads were refused, with the refused reads. */
  denials(identity?: string): AccessDenial[] {
    return [...this.refused.entries()].map(([namespace, reads]) => ({
      namespace,
      reads,
      ...(identity ? { identity } : {}),
    }));
  }

  get anyDenied(): boolean {
    return this.refused.size > 0;
  }
}
