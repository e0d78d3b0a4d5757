/**
 * Issue 14, defect 7 (bodies parsed before authentication): the caller is authenticated from the
 * headers before anything reads the body. Without a valid token: 401 at once, whatever the body —
 * malformed, or 30 MB still arriving — and the body is never buffered, so a crowd of anonymous
 * uploads costs neither memory nor the liveness probe's time.
 */
import { request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorized, startTestServer, type TestServer, testConfiguration, TOKENS } from './support.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(
    testConfiguration({ server: { bodyLimitBytes: 32 * 1024 * 1024, maxInFlight: 256 } }),
  );
});
afterAll(async () => {
  await server.close();
});

/**
 * Sends headers and a first slice of an upload of `totalBytes`, then the rest as the socket takes it
 * (unless `stallAfterFirst`). Resolves with the status as soon as the response arrives.
 */
function upload(
  path: string,
  headers: Record<string, string>,
  totalBytes: number,
  stallAfterFirst = false,
): Promise<{ status: number; contentType: string; ms: number }> {
  const started = performance.now();
  const chunk = Buffer.alloc(1024 * 1024, 'a');
  return new Promise((resolve, reject) => {
    const request = httpRequest({
      host: '127.0.0.1',
      port: server.port,
      path,
      method: 'POST',
      headers: { ...headers, 'content-length': String(totalBytes) },
    });
    let sent = 0;
    let answered = false;
    request.on('response', (response) => {
      answered = true;
      response.resume();
      resolve({
        status: response.statusCode ?? 0,
        contentType: String(response.headers['content-type']),
        ms: performance.now() - started,
      });
      request.destroy();
    });
    request.on('error', (error) => {
      if (!answered) reject(error);
    });
    request.write('{"issue":"');
    sent += 10;
    if (stallAfterFirst) return;
    const pump = () => {
      while (!answered && sent < totalBytes) {
        const slice = chunk.subarray(0, Math.min(chunk.length, totalBytes - sent));
        sent += slice.length;
        if (!request.write(slice)) {
          request.once('drain', pump);
          return;
        }
      }
      if (!answered) request.end();
    };
    pump();
  });
}

describe('authentication comes before the body', () => {
  it('answers malformed JSON without a token with 401, not 400', async () => {
    for (const path of ['/v1/remediate', '/v1/sessions/abc/approve', '/mcp']) {
      const response = await fetch(`${server.base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"issue":',
      });
      expect(response.status, path).toBe(401);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(((await response.json()) as { code: string }).code).toBe('not-authenticated');
    }
  });

  it('answers a wrong token with 401 before the upload has finished arriving', async () => {
    const answer = await upload(
      '/v1/remediate',
      authorized('not-a-valid-token'),
      8 * 1024 * 1024,
      /* stallAfterFirst */ true,
    );
    expect(answer.status).toBe(401);
  });

  it('refuses 16 anonymous 30 MB uploads at once without buffering them; /livez stays fast', async () => {
    // What the server read off the wire, per connection (load-independent, unlike the timings).
    const sockets: Socket[] = [];
    const track = (socket: Socket) => sockets.push(socket);
    server.http.server.on('connection', track);
    const before = process.memoryUsage().rss;
    let livezWorst = 0;
    let uploading = true;
    const probe = (async () => {
      while (uploading) {
        const started = performance.now();
        await (await fetch(`${server.base}/livez`)).arrayBuffer();
        livezWorst = Math.max(livezWorst, performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    const started = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 16 }, () =>
        upload('/v1/remediate', { 'content-type': 'application/json' }, 30 * 1024 * 1024),
      ),
    );
    const wallMs = performance.now() - started;
    uploading = false;
    await probe;
    server.http.server.off('connection', track);
    const grownMb = (process.memoryUsage().rss - before) / 1024 / 1024;
    const readMb = sockets.reduce((sum, socket) => sum + socket.bytesRead, 0) / 1024 / 1024;
    console.log(
      `16 × 30 MB anonymous uploads: answered in ${wallMs.toFixed(0)} ms, server read ${readMb.toFixed(0)} of 480 MB, RSS +${grownMb.toFixed(0)} MB, worst /livez ${livezWorst.toFixed(0)} ms`,
    );
    expect(answers.every((answer) => answer.status === 401)).toBe(true);
    expect(answers.every((answer) => answer.contentType.startsWith('application/problem+json'))).toBe(true);
    // Before the fix: every byte read and buffered (480 MB, +413 MB RSS, 2.8 s).
    expect(readMb).toBeLessThan(120);
    expect(grownMb).toBeLessThan(100);
    // Timings on a shared machine: generous bounds, the figures are in the log line.
    expect(wallMs).toBeLessThan(5_000);
    expect(livezWorst).toBeLessThan(2_000);
  });

  it('still reads the body of an authenticated request', async () => {
    const response = await fetch(`${server.base}/v1/remediate`, {
      method: 'POST',
      headers: authorized(TOKENS.analyst),
      body: '{"issue":',
    });
    expect(response.status).toBe(400);
  });
});
