/** The `audit` and `shadow` sections: checking the audit chain, and watching shadow sessions. */
import { z } from 'zod';
import { duration } from './server.js';

export const AuditSectionSchema = z
  .strictObject({
    /**
     * What a broken hash chain (a record altered, removed or inserted) means: `refuse-changes`
     * refuses every execution (automatic, hybrid, approve) until the chain verifies again;
     * `warn` only logs it and reports it (metric, /readyz). Analysis answers either way.
     */
    onBrokenChain: z.enum(['refuse-changes', 'warn']).default('refuse-changes'),
    /**
     * How often the records appended since the last check are verified (a full walk runs at
     * start-up and whenever the chain was found broken).
     */
    verifyInterval: duration('1m'),
  })
  .default({ onBrokenChain: 'refuse-changes', verifyInterval: '1m' });

/** Shadow mode (ADR 0035): how long and how often the target of a shadow session is watched. */
export const ShadowSectionSchema = z
  .strictObject({
    /** How long after the dry-run the target is watched (a person's change ends it earlier). */
    window: duration('30m'),
    /** How often observing sessions are checked (each check reads their targets once). */
    pollInterval: duration('15s'),
  })
  .default({ window: '30m', pollInterval: '15s' });
