/**
 * A thin REST client for the Kubernetes API. Authentication and TLS come from
 * @kubernetes/client-node's KubeConfig (default chain, in-cluster, exec plugins, tokens,
 * certificates); requests go out exactly as written — patch bodies are never re-serialised, so
 * strategic-merge `null`s and JSON-patch arrays reach the server intact (ADR 0009).
 * Retries (429/5xx/network) use cockatiel with bounded exponential backoff.
 */
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { KubeConfig } from '@kubernetes/client-node';
import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import { KubernetesApiError } from './errors.js';

export interface RequestOptions {
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly body?: unknown;
  readonly contentType?: string;
  readonly accept?: string;
  readonly timeoutMs?: number;
  /** The response's headers must arrive within this long (a watch: no idle limit, but an answer). */
  readonly responseTimeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Retry on 429/5xx/network errors. Only for requests that are safe to repeat. */
  readonly retry?: boolean;
}

export interface HttpClientOptions {
  readonly timeoutMs?: number;
  readonly maxAttempts?: number;
  readonly userAgent?: string;
  /** Called once per request sent (for API-call accounting). */
  readonly onRequest?: (method: string, path: string) => void;
}

const retryable = retry(
  handleWhen((error) => error instanceof KubernetesApiError && error.retryable),
  { maxAttempts: 3, backoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 2_000 }) },
);

export class KubeHttpClient {
  private readonly kubeConfig: KubeConfig;
  private readonly server: URL;
  /** The kubeconfig routes through a proxy: client-node's proxy agent is kept. */
  private readonly proxied: boolean;
  private readonly options: Required<Omit<HttpClientOptions, 'onRequest'>> &
    Pick<HttpClientOptions, 'onRequest'>;

  /**
   * Requests other than watches (and than a proxy's) share one keep-alive agent: a scan's hundreds of LISTs, or an
   * analysis's dozen reads, reuse connections instead of paying a TLS handshake each (on both
   * sides). Watches keep their own connection (the global agent), as they live for minutes. The
   * kubeconfig's TLS material (CA, client certificate and key) is parsed into one secure context,
   * again only when the kubeconfig hands over different material (an exec plugin's new certificate).
   */
  private readonly agent = new https.Agent({ keepAlive: true });
  private tls: { material: readonly unknown[]; context: tls.SecureContext } | undefined;

  constructor(kubeConfig: KubeConfig, options: HttpClientOptions = {}) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new KubernetesApiError(0, 'the kubeconfig has no current cluster');
    this.kubeConfig = kubeConfig;
    this.server = new URL(cluster.server);
    this.proxied = Boolean(cluster.proxyUrl);
    this.options = {
      timeoutMs: options.timeoutMs ?? 15_000,
      maxAttempts: options.maxAttempts ?? 3,
      userAgent: options.userAgent ?? 'kubemend',
      onRequest: options.onRequest,
    };
  }

  get serverUrl(): string {
    return this.server.toString();
  }

  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const text = await this.text(method, path, { accept: 'application/json', ...options });
    return (text ? JSON.parse(text) : {}) as T;
  }

  async text(method: string, path: string, options: RequestOptions = {}): Promise<string> {
    const once = () => this.send(method, path, options);
    // An aborted signal also ends the retries: no further attempt is made.
    return options.retry ? retryable.execute(once, options.signal) : once();
  }

  /** A watch: calls `onEvent` for each event until the signal aborts or the server ends it. */
  async watch(
    path: string,
    query: RequestOptions['query'],
    onEvent: (event: { type: string; object: Record<string, unknown> }) => void,
    signal: AbortSignal,
  ): Promise<void> {
    // No idle time-out on the stream (a quiet watch is fine), but the server must answer the request:
    // an API server that accepts the connection and never responds would hang the watch.
    const response = await this.open('GET', path, {
      query: { ...query, watch: true },
      signal,
      timeoutMs: 0,
      responseTimeoutMs: this.options.timeoutMs,
    });
    await new Promise<void>((resolve, reject) => {
      let buffer = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let newline = buffer.indexOf('\n');
        while (newline >= 0) {
          const line = buffer.slice(0, newline).trim();
          buffer = buffer.slice(newline + 1);
          try {
            if (line) onEvent(JSON.parse(line) as { type: string; object: Record<string, unknown> });
          } catch (cause) {
            response.destroy();
            reject(new KubernetesApiError(0, `watch ${path}: ${(cause as Error).message}`, { cause }));
            return;
          }
          newline = buffer.indexOf('\n');
        }
      });
      response.on('end', () => resolve());
      response.on('error', (error) =>
        signal.aborted
          ? resolve()
          : reject(new KubernetesApiError(0, `watch ${path}: ${error.message}`, { cause: error })),
      );
      // A connection torn down without an end or an error (the server went away): the watch is over.
      response.on('close', () => resolve());
      signal.addEventListener('abort', () => {
        response.destroy();
        resolve();
      });
    });
  }

  private async send(method: string, path: string, options: RequestOptions): Promise<string> {
    const response = await this.open(method, path, options);
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  /** The cached secure context and the keep-alive agent, for a request that is not a watch. */
  private shareConnections(options: https.RequestOptions): void {
    const material = [options.ca, options.cert, options.key, options.pfx, options.passphrase];
    if (!this.tls || material.some((value, i) => value !== this.tls!.material[i])) {
      const { ca, cert, key, pfx, passphrase } = options;
      this.tls = { material, context: tls.createSecureContext({ ca, cert, key, pfx, passphrase }) };
    }
    delete options.ca;
    delete options.cert;
    delete options.key;
    delete options.pfx;
    delete options.passphrase;
    // https.Agent hands it on to tls.connect; RequestOptions' type does not list it.
    (options as tls.ConnectionOptions).secureContext = this.tls.context;
    options.agent = this.agent;
  }

  private async open(method: string, path: string, options: RequestOptions): Promise<http.IncomingMessage> {
    const url = new URL(path, this.server);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const body =
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body);
    const requestOptions: https.RequestOptions = {
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port,
      path: `${url.pathname}${url.search}`,
      headers: {
        Accept: options.accept ?? 'application/json',
        'User-Agent': this.options.userAgent,
        ...(body !== undefined
          ? {
              'Content-Type': options.contentType ?? 'application/json',
              'Content-Length': Buffer.byteLength(body),
            }
          : {}),
      },
    };
    await this.kubeConfig.applyToHTTPSOptions(requestOptions);
    this.options.onRequest?.(method, url.pathname);
    const transport = url.protocol === 'http:' ? http : https;
    // client-node's applyToHTTPSOptions sets a new agent per request (one TLS handshake each);
    // ours replaces it unless the kubeconfig routes through a proxy (then its proxy agent stays).
    if (transport === https && options.query?.['watch'] !== true && !this.proxied)
      this.shareConnections(requestOptions);
    const timeoutMs = options.timeoutMs ?? this.options.timeoutMs;
    return new Promise<http.IncomingMessage>((resolve, reject) => {
      let waiting: NodeJS.Timeout | undefined;
      const request = transport.request(requestOptions, (response) => {
        clearTimeout(waiting);
        const status = response.statusCode ?? 0;
        if (status < 400) {
          resolve(response);
          return;
        }
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          reject(toApiError(status, Buffer.concat(chunks).toString('utf8'), response.headers['retry-after'])),
        );
        response.on('error', (cause) =>
          reject(new KubernetesApiError(0, `${method} ${url.pathname}: ${cause.message}`, { cause })),
        );
      });
      if (timeoutMs > 0) {
        request.setTimeout(timeoutMs, () => request.destroy(new Error(`timed out after ${timeoutMs} ms`)));
      }
      const responseTimeoutMs = options.responseTimeoutMs;
      if (responseTimeoutMs !== undefined && responseTimeoutMs > 0)
        waiting = setTimeout(
          () => request.destroy(new Error(`no response within ${responseTimeoutMs} ms`)),
          responseTimeoutMs,
        );
      request.on('error', (cause) => {
        clearTimeout(waiting);
        reject(new KubernetesApiError(0, `${method} ${url.pathname}: ${cause.message}`, { cause }));
      });
      if (options.signal) {
        if (options.signal.aborted) request.destroy(new Error('aborted'));
        options.signal.addEventListener('abort', () => request.destroy(new Error('aborted')), { once: true });
      }
      if (body !== undefined) request.write(body);
      request.end();
    });
  }
}

function toApiError(
  status: number,
  text: string,
  retryAfter: string | string[] | undefined,
): KubernetesApiError {
  let message = text.trim() || `HTTP ${status}`;
  let reason: string | undefined;
  try {
    const parsed = JSON.parse(text) as { message?: string; reason?: string };
    if (parsed.message) message = parsed.message;
    reason = parsed.reason;
  } catch {
    // not a Status document
  }
  const seconds = Number(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter);
  return new KubernetesApiError(status, message, {
    reason,
    retryAfterSeconds: Number.isFinite(seconds) ? seconds : undefined,
  });
}
