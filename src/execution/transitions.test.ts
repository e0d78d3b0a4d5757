import { describe, expect, it } from 'vitest';
import {
  ACTION_EVENTS,
  ACTION_STATES,
  type ActionState,
  IllegalTransitionError,
  isTerminal,
  transition,
  transitionRows,
} from './transitions.js';

function reachableFrom(start: ActionState): Set<ActionState> {
  const seen = new Set<ActionState>([start]);
  const queue = [start];
  while (queue.length > 0) {
    const state = queue.shift()!;
    for (const row of transitionRows().filter((r) => r.from === state))
      if (!seen.has(row.to)) {
        seen.add(row.to);
        queue.push(row.to);
      }
  }
  return seen;
}

describe('the action transition table', () => {
  it('follows the table for every allowed event', () => {
    for (const row of transitionRows()) expect(transition(row.from, row.event)).toBe(row.to);
  });

  it('refuses every other event with a typed error naming the state and the event', () => {
    const allowed = new Set(transitionRows().map((row) => `${row.from}/${row.event}`));
    let refused = 0;
    for (const state of ACTION_STATES)
      for (const event of ACTION_EVENTS) {
        if (allowed.has(`${state}/${event}`)) continue;
        refused++;
        const attempt = () => transition(state, event);
        expect(attempt).toThrow(IllegalTransitionError);
        expect(attempt).toThrow(`"${event}" in state "${state}"`);
      }
    expect(refused).toBe(ACTION_STATES.length * ACTION_EVENTS.length - transitionRows().length);
  });

  it('reaches every state from queued, and a terminal state from every state', () => {
    expect([...reachableFrom('queued')].sort()).toEqual([...ACTION_STATES].sort());
    for (const state of ACTION_STATES)
      expect([...reachableFrom(state)].some(isTerminal), `${state} can end`).toBe(true);
  });

  it('ends only in failed, rolled-back, restore-failed and skipped', () => {
    expect(ACTION_STATES.filter(isTerminal)).toEqual(['failed', 'rolled-back', 'restore-failed', 'skipped']);
  });

  it('uses every event somewhere', () => {
    expect(new Set(transitionRows().map((row) => row.event))).toEqual(new Set(ACTION_EVENTS));
  });
});
