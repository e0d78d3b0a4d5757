import { describe, expect, it } from 'vitest';
import type { ExecutionOutcome } from '../execution/results.js';
import { sessionAfterExecution } from './session-state.js';

type Outcome = ExecutionOutcome['outcome'];
const locked = [{ skipReason: 'locked' as const }];
const manual = [{ skipReason: 'manual' as const }];
const ran = [{}];

// outcome, actions, still waiting → session state, output status
const TABLE: Array<[Outcome, ReadonlyArray<{ skipReason?: 'locked' | 'manual' }>, boolean, string, string]> =
  [
    ['verified', ran, false, 'verified', 'success'],
    ['verified', ran, true, 'pending', 'pending'],
    ['verified', locked, false, 'verified', 'pending'],
    ['verified', locked, true, 'pending', 'pending'],
    ['dry-run', ran, false, 'analyzed', 'success'],
    ['dry-run', ran, true, 'pending', 'pending'],
    ['dry-run', locked, false, 'analyzed', 'pending'],
    ['dry-run', locked, true, 'pending', 'pending'],
    ['rolled-back', ran, false, 'rolled-back', 'failed'],
    ['rolled-back', ran, true, 'rolled-back', 'failed'],
    ['rolled-back', locked, false, 'rolled-back', 'failed'],
    ['rolled-back', locked, true, 'rolled-back', 'failed'],
    ['failed', ran, false, 'failed', 'failed'],
    ['failed', ran, true, 'failed', 'failed'],
    ['failed', locked, false, 'pending', 'failed'],
    ['failed', locked, true, 'pending', 'failed'],
    ['skipped', ran, false, 'failed', 'success'],
    ['skipped', ran, true, 'failed', 'pending'],
    ['skipped', manual, false, 'failed', 'success'],
    ['skipped', locked, false, 'pending', 'pending'],
    ['skipped', locked, true, 'pending', 'pending'],
  ];

describe('sessionAfterExecution', () => {
  it.each(TABLE)(
    '%s, actions %j, still waiting %s → %s / %s',
    (outcome, actions, stillWaiting, state, status) => {
      expect(sessionAfterExecution({ outcome, actions, stillWaiting })).toEqual({ state, status });
    },
  );
});
