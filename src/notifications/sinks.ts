/**
 * Where notifications go. A generic webhook gets the document as JSON with
 *   X-Kubemend-Delivery:  the document's id (dedupe on it: delivery is at least once)
 *   X-Kubemend-Timestamp: seconds since the epoch when signed (reject old ones: replay)
 *   X-Kubemend-Signature: sha256=HEX(HMAC-SHA256(secret, `${timestamp}.${body}`))
 * A Slack incoming webhook gets a Block Kit message. Any 2xx is delivered; anything else, a
 * timeout or a refused connection is a failed attempt (retried with backoff by the dispatcher).
 */
import { createHmac } from 'node:crypto';
import type { SinkConfiguration } from '../config/alerts.js';
import { type NotificationDocument, slackMessage } from './document.js';

export interface Sink {
  readonly name: string;
  send(document: NotificationDocument, timeoutMs: number): Promise<void>;
}

export function signature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function sinkFrom(config: SinkConfiguration, now: () => Date = () => new Date()): Sink {
  if (config.type === 'webhook')
    return {
      name: config.name,
      send: async (document, timeoutMs) => {
        const body = JSON.stringify(document);
        const timestamp = String(Math.floor(now().getTime() / 1000));
        await post(config.url, body, timeoutMs, {
          'x-kubemend-delivery': document.id,
          'x-kubemend-event': document.event,
          'x-kubemend-timestamp': timestamp,
          'x-kubemend-signature': signature(config.secretFile.reveal(), timestamp, body),
        });
      },
    };
  return {
    name: config.name,
    send: (document, timeoutMs) =>
      post(config.urlFile.reveal(), JSON.stringify(slackMessage(document)), timeoutMs, {}),
  };
}

async function post(
  url: string,
  body: string,
  timeoutMs: number,
  headers: Record<string, string>,
): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'kubemend', ...headers },
    body,
    signal: AbortSignal.timeout(timeoutMs),
    redirect: 'manual',
  });
  // Drain the body so the connection can be reused.
  await response.arrayBuffer().catch(() => undefined);
  if (response.status < 200 || response.status >= 300)
    throw new Error(`answered ${response.status} ${response.statusText}`.trim());
}
