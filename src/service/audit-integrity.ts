/**
 * Whether the audit log's hash chain holds, as a service concern: a full walk at start-up, then on
 * every `audit.verifyInterval` only the records appended since the last verified one (the walk
 * re-checks that record and starts after it), so a check costs what was appended, not the size of
 * the log. A broken chain is logged as an error every time it is found, reported (`status()`: the
 * metric, /readyz) and, with `audit.onBrokenChain: refuse-changes`, refuses every execution
 * (`assertMayExecute`, `audit-chain-broken`) until a full walk finds the chain whole again.
 */
import type { AuditRecorder, ChainVerification, VerifiedPoint } from '../audit/recorder.js';
import { GENESIS_HASH } from '../audit/recorder.js';
import { KubemendError } from '../domain/index.js';
import type { ServiceLogger } from './context.js';

export type BrokenChainPolicy = 'refuse-changes' | 'warn';

export interface ChainStatus {
  /** `unknown` until the first walk has finished. */
  readonly state: 'unknown' | 'valid' | 'broken';
  /** When the last walk finished (ISO 8601). */
  readonly checkedAt?: string;
  /** The last record known to be good. */
  readonly verified?: VerifiedPoint;
  readonly firstBroken?: { readonly sequence: number; readonly reason: string };
  /** The last walk could not read the log (the state is the one before it). */
  readonly error?: string;
}

export class AuditIntegrity {
  private current: ChainStatus = { state: 'unknown' };
  private running: Promise<ChainStatus> | undefined;

  constructor(
    private readonly audit: AuditRecorder,
    private readonly policy: BrokenChainPolicy,
    private readonly logger: () => ServiceLogger,
    private readonly clock: () => Date,
  ) {}

  status(): ChainStatus {
    return this.current;
  }

  /**
   * Verifies what is new since the last good record — or everything, at the first call and while
   * the chain is broken. One walk at a time; a caller arriving during a walk gets its result.
   */
  check(): Promise<ChainStatus> {
    this.running ??= this.walk().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Throws `audit-chain-broken` when the chain is broken and the policy refuses changes. */
  assertMayExecute(): void {
    if (this.current.state !== 'broken' || this.policy !== 'refuse-changes') return;
    const broken = this.current.firstBroken;
    throw new KubemendError(
      'audit-chain-broken',
      `the audit log's hash chain is broken${broken ? ` at record ${broken.sequence} (${broken.reason})` : ''}: ` +
        'executions are refused until it verifies again (audit.onBrokenChain: refuse-changes); analysis still answers',
    );
  }

  private async walk(): Promise<ChainStatus> {
    const from: VerifiedPoint =
      this.current.state === 'valid' && this.current.verified
        ? this.current.verified
        : { sequence: 0, hash: GENESIS_HASH };
    let result: ChainVerification;
    try {
      result = await this.audit.verify(from);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.logger().warn({ err: error }, `the audit chain could not be verified: ${message}`);
      this.current = { ...this.current, error: message };
      return this.current;
    }
    const checkedAt = this.clock().toISOString();
    if (result.ok) {
      if (this.current.state === 'broken')
        this.logger().info({ records: result.records }, 'the audit log hash chain verifies again');
      this.current = { state: 'valid', checkedAt, verified: result.last ?? from };
    } else {
      this.current = {
        state: 'broken',
        checkedAt,
        ...(result.firstBroken ? { firstBroken: result.firstBroken } : {}),
      };
      this.logger().error(
        {
          sequence: result.firstBroken?.sequence,
          reason: result.firstBroken?.reason,
          policy: this.policy,
        },
        this.policy === 'refuse-changes'
          ? 'the audit log hash chain is broken: executions are refused until it verifies again'
          : 'the audit log hash chain is broken (audit.onBrokenChain: warn, executions continue)',
      );
    }
    return this.current;
  }
}
