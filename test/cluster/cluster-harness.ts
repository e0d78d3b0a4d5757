// Helpers for suites that run against the real control plane started by scripts/cluster/up.sh.
// Paths come from .state/cluster/ (see scripts/cluster/env.sh); a missing or unreachable
// cluster is an error with instructions, never a silent skip.
import { execFile, execFileSync, type ExecFileSyncOptions } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
// scripts/cluster/env.sh exports these; a second control plane (other ports, state, shared binaries) sets them.
export const STATE_DIR = process.env.KM_STATE ?? join(REPO_ROOT, '.state', 'cluster');
export const ADMIN_KUBECONFIG = join(STATE_DIR, 'admin.kubeconfig');
export const KUBEMEND_KUBECONFIG = join(STATE_DIR, 'kubemend.kubeconfig');
export const PKI_DIR = join(STATE_DIR, 'pki');
export const KUBECTL = join(
  process.env.KM_BIN ?? join(process.env.KM_K8S_DIR ?? join(REPO_ROOT, '.k8s'), 'bin'),
  'kubectl',
);
export const SCRIPTS_DIR = join(REPO_ROOT, 'scripts', 'cluster');

const START_HINT =
  'Start it with `scripts/cluster/up.sh`, or run the suite through ' +
  '`scripts/cluster/with-cluster.sh npx vitest run --project integration test/cluster`.';

/** Loads the admin kubeconfig and checks that the apiserver answers /readyz. Throws otherwise. */
export async function requireCluster(): Promise<k8s.KubeConfig> {
  if (!existsSync(ADMIN_KUBECONFIG)) {
    throw new Error(`No test cluster: ${ADMIN_KUBECONFIG} does not exist. ${START_HINT}`);
  }
  if (!existsSync(KUBECTL)) {
    throw new Error(`kubectl is not built at ${KUBECTL}. ${START_HINT}`);
  }
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(ADMIN_KUBECONFIG);
  try {
    const out = kubectl(['get', '--raw', '/readyz'], { timeout: 15_000 });
    if (out.trim() !== 'ok') throw new Error(`/readyz answered ${out.trim()}`);
  } catch (error) {
    throw new Error(
      `The test cluster at ${kc.getCurrentCluster()?.server ?? '?'} is not ready ` +
        `(${error instanceof Error ? error.message.trim() : String(error)}). ${START_HINT}`,
    );
  }
  return kc;
}

export function loadKubeconfig(path: string): k8s.KubeConfig {
  if (!existsSync(path)) throw new Error(`kubeconfig ${path} does not exist. ${START_HINT}`);
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(path);
  return kc;
}

/** Runs the built kubectl as cluster admin and returns stdout. Throws on a non-zero exit. */
export function kubectl(args: readonly string[], options: { input?: string; timeout?: number } = {}): string {
  const execOptions: ExecFileSyncOptions = {
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: options.timeout ?? 60_000,
    ...(options.input === undefined ? {} : { input: options.input }),
  };
  return execFileSync(KUBECTL, ['--kubeconfig', ADMIN_KUBECONFIG, ...args], execOptions) as string;
}

/**
 * Async variant of {@link kubectl}: use it when this process must keep serving requests
 * while kubectl runs (e.g. an in-process kubelet stand-in that the apiserver calls back).
 */
export async function kubectlAsync(args: readonly string[], timeout = 60_000): Promise<string> {
  const { stdout } = await promisify(execFile)(KUBECTL, ['--kubeconfig', ADMIN_KUBECONFIG, ...args], {
    encoding: 'utf8',
    timeout,
  });
  return stdout;
}

/** Runs a scripts/cluster/*.sh script; throws with its output on a non-zero exit. */
export function runClusterScript(name: string, args: readonly string[] = []): string {
  return execFileSync(join(SCRIPTS_DIR, name), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** HTTP status of a client-node call: 200 when it resolved, the ApiException code otherwise. */
export async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
    return 200;
  } catch (error) {
    if (error instanceof k8s.ApiException) return error.code;
    throw error;
  }
}

/** Polls until `probe` returns a value other than undefined, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
  intervalMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await sleep(intervalMs);
  }
}

/** A DNS-1123 name unique to this run. */
/** The memory limit of a Deployment's first container (what the oom-killed fix changes). */
export function memoryLimitOf(namespace: string, name: string): string {
  return kubectl([
    'get',
    'deployment',
    name,
    '-n',
    namespace,
    '-o',
    'jsonpath={.spec.template.spec.containers[0].resources.limits.memory}',
  ]);
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
}

export const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

/** A Deployment whose api container (working set 180Mi in the simulated world) is limited to 128Mi. */
export function oomDeployment(name: string, namespace: string): string {
  return JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            {
              name: 'api',
              image: 'ghcr.io/acme/api:v1.4.0',
              ports: [{ containerPort: 8080 }],
              resources: { limits: { memory: '128Mi' }, requests: { memory: '64Mi' } },
            },
          ],
        },
      },
    },
  });
}

/** Applies {@link oomDeployment} and waits until the simulated kubelet has OOM-killed it. */
export async function createOomKilled(name: string, namespace: string): Promise<void> {
  kubectl(['apply', '-f', '-'], { input: oomDeployment(name, namespace) });
  await waitFor(
    `${name} OOMKilled`,
    async () =>
      /OOMKilled|CrashLoopBackOff/.test(kubectl(['get', 'pods', '-n', namespace, '-l', `app=${name}`]))
        ? true
        : undefined,
    60_000,
  );
}
