/**
 * MCP fuzzing in the unit suite: generated tool calls and resource reads (fixed seed) against the
 * MCP server over an in-memory transport. Refusals are `isError` results or JSON-RPC errors the
 * caller caused, never an internal error; they change nothing; the server keeps answering.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { checkMcpAlive, checkMcpCase, mcpCaseArbitrary, mcpTarget, type McpTarget } from './harness.js';

let target: McpTarget;
beforeAll(async () => {
  target = await mcpTarget();
});
afterAll(async () => {
  await target.close();
});

describe('MCP fuzzing', () => {
  it('every generated call is answered, refusals are the caller’s and change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(mcpCaseArbitrary, (testCase) => checkMcpCase(target, testCase)),
      { numRuns: 1_000, seed: 14_0002, endOnFailure: true },
    );
    await checkMcpAlive(target);
  }, 120_000);
});
