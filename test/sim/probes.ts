// Probe evaluation against an image's behaviour: pure, so the state machine stays deterministic.
import type { V1Container, V1Probe } from '@kubernetes/client-node';
import { probeOutputs } from './messages.js';
import type { Image } from './world.js';

export type ProbeResult = { readonly ok: true } | { readonly ok: false; readonly output: string };

export interface ProbeTarget {
  readonly container: V1Container;
  readonly image: Image;
  readonly podIP: string;
  /** True once the process listens (startSeconds after Started). */
  readonly listening: boolean;
  /** ≥ 1: how much slower the app answers because of CPU throttling. */
  readonly slowdown: number;
}

export function resolvePort(container: V1Container, port: number | string | undefined): number | undefined {
  if (typeof port === 'number') return port;
  if (port === undefined) return undefined;
  if (/^\d+$/.test(port)) return Number(port);
  return container.ports?.find((candidate) => candidate.name === port)?.containerPort;
}

export function runProbe(probe: V1Probe, target: ProbeTarget): ProbeResult {
  const { image, podIP, listening } = target;
  const timeoutMs = (probe.timeoutSeconds ?? 1) * 1000;
  if (probe.httpGet) {
    const port = resolvePort(target.container, probe.httpGet.port as number | string) ?? 0;
    const host = probe.httpGet.host ?? podIP;
    const scheme = (probe.httpGet.scheme ?? 'HTTP').toLowerCase();
    const path = probe.httpGet.path ?? '/';
    const url = `${scheme}://${host}:${port}${path.startsWith('/') ? path : `/${path}`}`;
    if (!listening || !image.listens.includes(port))
      return { ok: false, output: probeOutputs.httpRefused(url, host, port) };
    if (image.latencyMs * target.slowdown > timeoutMs)
      return { ok: false, output: probeOutputs.httpTimeout(url) };
    const code = image.paths[path.split('?')[0] ?? path] ?? 404;
    return code >= 200 && code < 400 ? { ok: true } : { ok: false, output: probeOutputs.httpStatus(code) };
  }
  if (probe.tcpSocket) {
    const port = resolvePort(target.container, probe.tcpSocket.port as number | string) ?? 0;
    const host = probe.tcpSocket.host ?? podIP;
    if (!listening || !image.listens.includes(port))
      return { ok: false, output: probeOutputs.tcpRefused(host, port) };
    return { ok: true };
  }
  if (probe.grpc) {
    const port = probe.grpc.port;
    if (!listening || !image.listens.includes(port)) {
      return {
        ok: false,
        output: `timeout: failed to connect service "${podIP}:${port}" within ${probe.timeoutSeconds ?? 1}s: context deadline exceeded`,
      };
    }
    return { ok: true };
  }
  // exec probes: the command succeeds once the process is up (documented simplification).
  return listening ? { ok: true } : { ok: false, output: '' };
}
