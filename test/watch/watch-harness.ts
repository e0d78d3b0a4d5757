/**
 * What the watch integration test and `npm run bench:watch` share: kubemend (the composition root
 * production uses, SQLite storage in a temporary directory) watching one namespace of the control
 * plane; breakages (a Deployment whose image does not exist, or whose image exits at start); and an
 * independent observer — its own informer on the namespace's pods — that notes the moment each
 * workload's first failure signal reached the API server, to measure detection latency from.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Application, createApplication } from '../../src/app.js';
import { Informer } from '../../src/cluster/informer.js';
import { KubeClusterGateway, loadKubeConfig } from '../../src/cluster/kube-gateway.js';
import { loadConfiguration } from '../../src/config/configuration.js';
import { type Projection, projectPod } from '../../src/watch/signals.js';
import { startWatchers, type Watching } from '../../src/watch/start.js';
import type { Opened } from '../../src/watch/opener.js';
import { ADMIN_KUBECONFIG, KUBECTL, kubectl } from '../cluster/cluster-harness.js';

export type Breakage = 'image' | 'crash';

export function brokenDeployment(name: string, namespace: string, breakage: Breakage): string {
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
              name: 'main',
              // registry.invalid: no such image (ErrImagePull); api:v1.5.0 exits at start without PAYMENTS_URL.
              image: breakage === 'image' ? `registry.invalid/${name}:1.0` : 'ghcr.io/acme/api:v1.5.0',
            },
          ],
        },
      },
    },
  });
}

/** `kubectl apply` without blocking this process (its watchers keep running meanwhile). */
export function breakWorkload(name: string, namespace: string, breakage: Breakage): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      KUBECTL,
      ['--kubeconfig', ADMIN_KUBECONFIG, 'apply', '-f', '-'],
      { timeout: 60_000 },
      (error, _stdout, stderr) =>
        error ? reject(new Error(`kubectl apply: ${stderr || error.message}`)) : resolve(),
    );
    child.stdin?.end(brokenDeployment(name, namespace, breakage));
  });
}

export function createNamespace(namespace: string): void {
  kubectl(['create', 'namespace', namespace]);
}

export function deleteNamespace(namespace: string): void {
  try {
    kubectl(['delete', 'namespace', namespace, '--wait=false']);
  } catch {
    // best effort
  }
}

export interface WatchRun {
  readonly app: Application;
  readonly namespace: string;
  /** Incidents as the watcher reported them, in order. */
  readonly incidents: Array<Opened & { readonly openedAt: number }>;
  /** First moment the observer saw each Deployment's pods signal (epoch ms). */
  readonly firstSignal: Map<string, number>;
  watching: Watching;
  /** Stops the watchers and starts new ones on the same stores (a kubemend restart). */
  restartKubemend(): Promise<void>;
  stop(): Promise<void>;
}

export async function startWatchRun(
  namespace: string,
  options: { debounce?: string } = {},
): Promise<WatchRun> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kubemend-watch-'));
  const configuration = loadConfiguration({
    env: {},
    flags: {
      logLevel: 'warn',
      dataDir,
      cluster: { kubeconfig: ADMIN_KUBECONFIG },
      watch: { namespaces: [namespace], debounce: options.debounce ?? '1s', cooldown: '5m', mode: 'manual' },
    } as never,
  });
  const app = await createApplication(configuration, { actor: 'kubemend-watch' });
  const incidents: WatchRun['incidents'] = [];
  const logger = {
    info: () => undefined,
    warn: (detail: Record<string, unknown>, message: string) =>
      process.stderr.write(`${new Date().toISOString()} watch: ${message}\n`),
    error: (detail: Record<string, unknown>, message: string) =>
      process.stderr.write(
        `watch error: ${message} ${String((detail.err as Error | undefined)?.message ?? '')}\n`,
      ),
  };
  const start = async () =>
    startWatchers(configuration.watch, await app.watchTargets(), {
      incidents: app.incidents,
      sessions: app.service,
      logger,
      onIncident: (opened) => incidents.push(opened),
    });

  const firstSignal = new Map<string, number>();
  const observer = new Informer<Projection>(
    new KubeClusterGateway(loadKubeConfig({ kubeconfig: ADMIN_KUBECONFIG })),
    {
      kind: 'Pod',
      namespace,
      project: (pod) => projectPod(pod, Date.now()),
      onChange: (change) => {
        const name = change.value?.workload.name;
        if (change.value?.signal && name && !firstSignal.has(name)) firstSignal.set(name, Date.now());
      },
    },
  );
  observer.start();

  const run: WatchRun = {
    app,
    namespace,
    incidents,
    firstSignal,
    watching: await start(),
    async restartKubemend() {
      await run.watching.stop();
      run.watching = await start();
    },
    async stop() {
      await run.watching.stop();
      await observer.stop();
      // The sessions are analysed in the background: let them finish before the database closes.
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const busy = (await app.sessions.list({ limit: 1000 })).filter((session) => session.phase !== 'done');
        if (busy.length === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await app.close();
    },
  };
  const deadline = Date.now() + 60_000;
  while (!(run.watching.watchers.every((watcher) => watcher.synced) && observer.synced)) {
    if (Date.now() > deadline) throw new Error('the watchers did not list within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return run;
}

/** Sessions opened by the watcher, by target name. */
export async function watchSessions(app: Application): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const session of await app.sessions.list({ limit: 1000 })) {
    if (session.actor !== 'kubemend-watch') continue;
    const name = session.input.target?.name ?? '?';
    out.set(name, [...(out.get(name) ?? []), session.id]);
  }
  return out;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
