// HTTPS servers: one kubelet API per simulated node (kubelet-serving certificate, client
// certificates signed by the cluster CA required: the apiserver's kubelet client), and the
// metrics.k8s.io/v1beta1 aggregated API (front-proxy client certificates required).
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { LogRead } from './pod-machine.js';
import { matchesLabelSelector } from './label-selector.js';
import {
  cadvisorMetrics,
  nodeMetrics,
  podMetrics,
  resourceMetrics,
  statsSummary,
  type NodeUsage,
} from './metrics.js';

export interface KubeletBackend {
  logs(
    node: string,
    namespace: string,
    pod: string,
    container: string,
    previous: boolean,
  ): LogRead | undefined;
  usage(node: string): NodeUsage | undefined;
  allUsage(): NodeUsage[];
  metricsWindow(): string;
}

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer;
}

function send(
  response: ServerResponse,
  status: number,
  body: string,
  type = 'text/plain; charset=utf-8',
): void {
  response.writeHead(status, { 'Content-Type': type });
  response.end(body);
}

/** Formats log lines the way the kubelet streams them (tailLines, timestamps, sinceSeconds, limitBytes). */
export function formatLogs(
  read: Extract<LogRead, { ok: true }>,
  query: URLSearchParams,
  now: number,
): string {
  let lines = [...read.lines];
  const since = query.get('sinceSeconds');
  if (since !== null) lines = lines.filter((l) => l.time >= now - Number(since) * 1000);
  const sinceTime = query.get('sinceTime');
  if (sinceTime !== null) lines = lines.filter((l) => l.time >= Date.parse(sinceTime));
  const tail = query.get('tailLines');
  if (tail !== null && Number(tail) >= 0) lines = lines.slice(Math.max(0, lines.length - Number(tail)));
  const timestamps = query.get('timestamps') === 'true';
  let text = lines
    .map(
      (l) => `${timestamps ? `${new Date(l.time).toISOString().replace('Z', '000000Z')} ` : ''}${l.text}\n`,
    )
    .join('');
  const limit = query.get('limitBytes');
  if (limit !== null) text = Buffer.from(text).subarray(0, Number(limit)).toString();
  return text;
}

export function kubeletHandler(node: string, backend: KubeletBackend) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    const url = new URL(request.url ?? '/', 'https://kubelet');
    const path = url.pathname;
    if (path === '/healthz') return send(response, 200, 'ok');
    const logs = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(path);
    if (logs) {
      const [, namespace = '', pod = '', container = ''] = logs.map(decodeURIComponent);
      const read = backend.logs(node, namespace, pod, container, url.searchParams.get('previous') === 'true');
      if (!read) return send(response, 404, `pod "${pod}" not found`);
      if (!read.ok) return send(response, 400, read.message);
      return send(response, 200, formatLogs(read, url.searchParams, Date.now()));
    }
    const usage = backend.usage(node);
    if (!usage) return send(response, 404, 'node not found');
    if (path === '/stats/summary')
      return send(response, 200, JSON.stringify(statsSummary(usage, Date.now())), 'application/json');
    if (path === '/metrics/resource')
      return send(response, 200, resourceMetrics(usage, Date.now()), 'text/plain; version=0.0.4');
    if (path === '/metrics/cadvisor')
      return send(response, 200, cadvisorMetrics(usage, Date.now()), 'text/plain; version=0.0.4');
    if (path === '/pods') {
      return send(
        response,
        200,
        JSON.stringify({
          kind: 'PodList',
          apiVersion: 'v1',
          metadata: {},
          items: usage.pods.map((p) => ({ metadata: { name: p.name, namespace: p.namespace, uid: p.uid } })),
        }),
        'application/json',
      );
    }
    send(response, 404, '404 page not found');
  };
}

export async function listen(server: Server, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export function kubeletServer(node: string, tls: TlsMaterial, backend: KubeletBackend): Server {
  return createServer({ ...tls, requestCert: true, rejectUnauthorized: true }, kubeletHandler(node, backend));
}

const GROUP = 'metrics.k8s.io';
const VERSION = 'v1beta1';

function status(code: number, reason: string, message: string): string {
  return JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    code,
  });
}

export function metricsApiHandler(backend: KubeletBackend) {
  return (request: IncomingMessage, response: ServerResponse): void => {
    const peer = (request.socket as TLSSocket).getPeerCertificate();
    if (!peer?.subject || peer.subject.CN !== 'front-proxy-client') {
      return send(response, 401, status(401, 'Unauthorized', 'Unauthorized'), 'application/json');
    }
    const url = new URL(request.url ?? '/', 'https://metrics');
    const path = url.pathname.replace(/\/$/, '');
    const json = (body: unknown) => send(response, 200, JSON.stringify(body), 'application/json');
    const groupVersion = `${GROUP}/${VERSION}`;
    const group = {
      name: GROUP,
      versions: [{ groupVersion, version: VERSION }],
      preferredVersion: { groupVersion, version: VERSION },
    };
    if (path === '/healthz' || path === '/readyz' || path === '/livez') return send(response, 200, 'ok');
    if (path === '/apis') return json({ kind: 'APIGroupList', apiVersion: 'v1', groups: [group] });
    if (path === `/apis/${GROUP}`) return json({ kind: 'APIGroup', apiVersion: 'v1', ...group });
    if (path === `/apis/${groupVersion}`) {
      return json({
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion,
        resources: [
          { name: 'nodes', singularName: '', namespaced: false, kind: 'NodeMetrics', verbs: ['get', 'list'] },
          { name: 'pods', singularName: '', namespaced: true, kind: 'PodMetrics', verbs: ['get', 'list'] },
        ],
      });
    }
    const now = Date.now();
    const window = Number.parseFloat(backend.metricsWindow());
    const selector = url.searchParams.get('labelSelector') ?? undefined;
    const pods = backend
      .allUsage()
      .flatMap((n) => n.pods)
      .filter((p) => p.containers.length > 0);
    const podPath = /^\/apis\/metrics\.k8s\.io\/v1beta1(?:\/namespaces\/([^/]+))?\/pods(?:\/([^/]+))?$/.exec(
      path,
    );
    if (podPath) {
      const [, namespace, name] = podPath;
      let items = pods.filter(
        (p) =>
          (namespace === undefined || p.namespace === namespace) && (name === undefined || p.name === name),
      );
      try {
        items = items.filter((p) => matchesLabelSelector(selector, p.labels));
      } catch (error) {
        return send(
          response,
          400,
          status(400, 'BadRequest', error instanceof Error ? error.message : String(error)),
          'application/json',
        );
      }
      if (name !== undefined) {
        const item = items[0];
        if (!item)
          return send(
            response,
            404,
            status(404, 'NotFound', `podmetrics.metrics.k8s.io "${name}" not found`),
            'application/json',
          );
        return json({ kind: 'PodMetrics', apiVersion: groupVersion, ...podMetrics(item, now, window) });
      }
      return json({
        kind: 'PodMetricsList',
        apiVersion: groupVersion,
        metadata: {},
        items: items.map((p) => podMetrics(p, now, window)),
      });
    }
    const nodePath = /^\/apis\/metrics\.k8s\.io\/v1beta1\/nodes(?:\/([^/]+))?$/.exec(path);
    if (nodePath) {
      const nodes = backend.allUsage().filter((n) => nodePath[1] === undefined || n.name === nodePath[1]);
      if (nodePath[1] !== undefined) {
        const node = nodes[0];
        if (!node)
          return send(
            response,
            404,
            status(404, 'NotFound', `nodemetrics.metrics.k8s.io "${nodePath[1]}" not found`),
            'application/json',
          );
        return json({ kind: 'NodeMetrics', apiVersion: groupVersion, ...nodeMetrics(node, now, window) });
      }
      return json({
        kind: 'NodeMetricsList',
        apiVersion: groupVersion,
        metadata: {},
        items: nodes.map((n) => nodeMetrics(n, now, window)),
      });
    }
    send(
      response,
      404,
      status(404, 'NotFound', 'the server could not find the requested resource'),
      'application/json',
    );
  };
}

export function metricsApiServer(tls: TlsMaterial, backend: KubeletBackend): Server {
  return createServer({ ...tls, requestCert: true, rejectUnauthorized: true }, metricsApiHandler(backend));
}
