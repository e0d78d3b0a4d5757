// Reads and writes the scenario runner does against the test cluster: raw JSON GETs with the
// admin kubeconfig (fast, no process per poll), and the built kubectl for apply/delete/rollout.
import { execFile } from 'node:child_process';
import { request, type RequestOptions } from 'node:https';
import * as k8s from '@kubernetes/client-node';
import { ADMIN_KUBECONFIG, KUBECTL } from '../cluster/cluster-harness.js';
import type { ClusterEvent, ClusterReader, PodMetricsItem } from './signals.js';

const RESOURCES: Record<string, { base: string; plural: string; namespaced: boolean }> = {};
function define(base: string, plural: string, names: string[], namespaced = true): void {
  for (const name of [plural, ...names]) RESOURCES[name.toLowerCase()] = { base, plural, namespaced };
}
define('/api/v1', 'pods', ['pod', 'po']);
define('/api/v1', 'services', ['service', 'svc']);
define('/api/v1', 'persistentvolumeclaims', ['persistentvolumeclaim', 'pvc']);
define('/api/v1', 'configmaps', ['configmap', 'cm']);
define('/api/v1', 'secrets', ['secret']);
define('/api/v1', 'resourcequotas', ['resourcequota', 'quota']);
define('/api/v1', 'serviceaccounts', ['serviceaccount', 'sa']);
define('/api/v1', 'endpoints', ['endpoint', 'ep']);
define('/api/v1', 'events', ['event', 'ev']);
define('/api/v1', 'nodes', ['node', 'no'], false);
define('/api/v1', 'namespaces', ['namespace', 'ns'], false);
define('/api/v1', 'persistentvolumes', ['persistentvolume', 'pv'], false);
define('/apis/apps/v1', 'deployments', ['deployment', 'deploy']);
define('/apis/apps/v1', 'replicasets', ['replicaset', 'rs']);
define('/apis/apps/v1', 'statefulsets', ['statefulset', 'sts']);
define('/apis/apps/v1', 'daemonsets', ['daemonset', 'ds']);
define('/apis/batch/v1', 'jobs', ['job']);
define('/apis/batch/v1', 'cronjobs', ['cronjob', 'cj']);
define('/apis/autoscaling/v2', 'horizontalpodautoscalers', ['horizontalpodautoscaler', 'hpa']);
define('/apis/discovery.k8s.io/v1', 'endpointslices', ['endpointslice']);

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class ClusterIO implements ClusterReader {
  readonly kubeconfig: k8s.KubeConfig;
  private readonly server: URL;

  constructor() {
    this.kubeconfig = new k8s.KubeConfig();
    this.kubeconfig.loadFromFile(ADMIN_KUBECONFIG);
    this.server = new URL(this.kubeconfig.getCurrentCluster()?.server ?? 'https://127.0.0.1:16443');
  }

  /** GET a path of the apiserver (or of `target`); JSON-decoded when `json`, the text otherwise. Non-2xx → ApiError. */
  async get(path: string, json = true, target: { hostname: string; port: string | number } = this.server): Promise<unknown> {
    const options: RequestOptions = {
      method: 'GET',
      hostname: target.hostname,
      port: target.port,
      path,
      headers: { Accept: json ? 'application/json' : '*/*' },
      timeout: 30_000,
    };
    await this.kubeconfig.applyToHTTPSOptions(options);
    return new Promise((resolve, reject) => {
      const req = request(options, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = response.statusCode ?? 0;
          if (status < 200 || status >= 300) {
            let message = text;
            try {
              message = (JSON.parse(text) as { message?: string }).message ?? text;
            } catch {
              // not JSON: keep the text
            }
            reject(new ApiError(status, `GET ${path}: HTTP ${status}: ${message.trim()}`));
            return;
          }
          try {
            resolve(json ? JSON.parse(text) : text);
          } catch (error) {
            reject(error);
          }
        });
      });
      req.on('timeout', () => req.destroy(new Error(`GET ${path}: timed out`)));
      req.on('error', reject);
      req.end();
    });
  }

  async objects(kind: string, namespace: string, selector?: string): Promise<Array<Record<string, unknown>>> {
    const resource = RESOURCES[kind.toLowerCase()];
    if (!resource) {
      const args = ['get', kind, '-n', namespace, '-o', 'json', ...(selector ? ['-l', selector] : [])];
      return ((JSON.parse(await this.kubectl(args)) as { items?: Array<Record<string, unknown>> }).items ?? []);
    }
    const scope = resource.namespaced ? `/namespaces/${encodeURIComponent(namespace)}` : '';
    const query = selector ? `?labelSelector=${encodeURIComponent(selector)}` : '';
    const list = (await this.get(`${resource.base}${scope}/${resource.plural}${query}`)) as { items?: Array<Record<string, unknown>> };
    return list.items ?? [];
  }

  async events(namespace: string): Promise<ClusterEvent[]> {
    return (await this.objects('events', namespace)) as ClusterEvent[];
  }

  async logs(namespace: string, pod: string, container: string | undefined, previous: boolean): Promise<string> {
    const query = new URLSearchParams();
    if (container) query.set('container', container);
    if (previous) query.set('previous', 'true');
    return (await this.get(`/api/v1/namespaces/${namespace}/pods/${pod}/log?${query.toString()}`, false)) as string;
  }

  async podMetrics(namespace: string, selector: string): Promise<PodMetricsItem[]> {
    const list = (await this.get(`/apis/metrics.k8s.io/v1beta1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(selector)}`)) as {
      items?: PodMetricsItem[];
    };
    return list.items ?? [];
  }

  /**
   * Scrapes each simulated kubelet directly at its Node's InternalIP and daemon endpoint port, as
   * Prometheus would: the apiserver's node proxy refuses loopback addresses ("address not allowed").
   * The admin client certificate is signed by the cluster CA, which the kubelets require.
   */
  async kubeletMetrics(path: string): Promise<string[]> {
    const nodes = await this.objects('nodes', '', 'kubemend.io/simulated=true');
    return Promise.all(
      nodes.map(async (node) => {
        const status = node['status'] as { addresses?: Array<{ type: string; address: string }>; daemonEndpoints?: { kubeletEndpoint?: { Port?: number } } };
        const hostname = status.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '127.0.0.1';
        const port = status.daemonEndpoints?.kubeletEndpoint?.Port ?? 0;
        return (await this.get(`/${path}`, false, { hostname, port })) as string;
      }),
    );
  }

  /** Runs the built kubectl as admin; resolves with stdout, rejects with stderr. */
  kubectl(args: readonly string[], input?: string, timeoutMs = 120_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = execFile(KUBECTL, ['--kubeconfig', ADMIN_KUBECONFIG, ...args], { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`kubectl ${args.join(' ')}: ${(stderr || error.message).trim()}`));
        else resolve(stdout);
      });
      if (input !== undefined) child.stdin?.end(input);
    });
  }
}
