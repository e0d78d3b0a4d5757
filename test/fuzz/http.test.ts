/**
 * HTTP fuzzing in the unit suite: a few thousand generated requests (fixed seed) against the real
 * fastify app in process — mutated, truncated, deeply nested and wrongly typed documents, wrong
 * media types, tokens and ids. `npm run fuzz` runs 100,000 (bench/fuzz.ts).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { checkHttpAlive, checkHttpCase, httpCaseArbitrary, httpTarget, type HttpTarget } from './harness.js';

let target: HttpTarget;
beforeAll(async () => {
  target = await httpTarget();
});
afterAll(async () => {
  await target.close();
});

describe('HTTP fuzzing', () => {
  it('every generated request is answered below 500, 4xx as a problem, rejections change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(httpCaseArbitrary, (testCase) => checkHttpCase(target, testCase)),
      { numRuns: 2_000, seed: 14_0001, endOnFailure: true },
    );
    await checkHttpAlive(target);
  }, 120_000);
});
