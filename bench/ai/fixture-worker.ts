/**
 * The loopback fixture server on its own thread, so that the concurrency bench measures kubemend's
 * work, not the fake provider's (JSON parsing of every request, scripting the replies).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { FixtureServer, hintEchoResponder } from '../../test/ai/fixture-server.js';

const { latencyMs } = workerData as { latencyMs: number };
const fixture = await FixtureServer.start({
  responder: hintEchoResponder({ delayMs: latencyMs, tool: { name: 'list_pods', input: {} } }),
});
parentPort!.postMessage({ url: fixture.url });
parentPort!.on('message', (message: { type: string }) => {
  if (message.type === 'count') parentPort!.postMessage({ count: fixture.requests.length });
  if (message.type === 'close') void fixture.close().then(() => process.exit(0));
});
