// A `kubemend serve` child process for deployment tests: started with exactly the environment
// given (nothing inherited but PATH), on a port it picks itself (KUBEMEND_PORT=0, read from its
// "Server listening at" log line), stopped with SIGTERM and a SIGKILL fallback.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_KUBECONFIG, KUBECTL, kubectl, REPO_ROOT } from '../cluster/cluster-harness.js';

/**
 * The bundled CLI (`dist/bundle/kubemend.js`, what the image and `bin` run), relative to the
 * repository; throws when a source file is newer than it (`npm test` builds first; by hand: npm
 * run build), so a test never passes on a stale bundle.
 */
export function bundledCli(): string {
  const entry = 'dist/bundle/kubemend.js';
  const built = statSync(join(REPO_ROOT, entry), { throwIfNoEntry: false })?.mtimeMs ?? 0;
  const newer = readdirSync(join(REPO_ROOT, 'src'), { recursive: true })
    .map(String)
    .find((file) => file.endsWith('.ts') && statSync(join(REPO_ROOT, 'src', file)).mtimeMs > built);
  if (built === 0 || newer !== undefined)
    throw new Error(`${entry} is ${built === 0 ? 'missing' : `older than src/${newer}`}: npm run build`);
  return entry;
}

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly base: string;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves when the process exits (however it was told to). */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM; SIGKILL after `graceMs`. Resolves with the exit code (null when killed) and time taken. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
}

export interface ServeOptions {
  /** Working directory; the CLI entry is <cwd>/<entry>. */
  readonly cwd: string;
  readonly entry?: string;
  readonly env: Readonly<Record<string, string>>;
  readonly args?: readonly string[];
  readonly startTimeoutMs?: number;
}

export async function startServe(options: ServeOptions): Promise<ServeProcess> {
  const entry = join(options.cwd, options.entry ?? 'dist/bundle/kubemend.js');
  const child = spawn(process.execPath, [entry, 'serve', ...(options.args ?? [])], {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', KUBEMEND_PORT: '0', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );

  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`kubemend serve did not start in time:\n${output}`)),
      options.startTimeoutMs ?? 60_000,
    );
    const look = () => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', look);
    child.stderr!.on('data', look);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`kubemend serve exited (${code ?? signal}) before listening:\n${output}`));
    });
  });

  return {
    child,
    base,
    output: () => output,
    exited: () => exited,
    async stop(graceMs = 15_000) {
      const started = Date.now();
      if (child.exitCode !== null || child.signalCode !== null) {
        return { code: child.exitCode, signal: child.signalCode, ms: 0 };
      }
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return { ...result, ms: Date.now() - started };
    },
  };
}

/** fetch with a JSON body and a bearer token; the answer's status and parsed body. */
export async function call(
  base: string,
  path: string,
  options: { token?: string; body?: unknown; method?: string } = {},
): Promise<{ status: number; body: unknown; text: string }> {
  const response = await fetch(`${base}${path}`, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (metrics)
  }
  return { status: response.status, body, text };
}

/** The Helm binary, built once from the Go module proxy into .tools/bin (scripts/tools/helm.sh). */
export function helmBinary(): string {
  return execFileSync('bash', [join(REPO_ROOT, 'scripts', 'tools', 'helm.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 1_800_000,
  }).trim();
}

export const CHART = join(REPO_ROOT, 'deploy', 'helm', 'kubemend');

/** The chart's ServiceAccount, ClusterRole(Binding) and per-namespace Role(Binding)s, applied for real. */
export function applyChartRbac(
  helm: string,
  release: string,
  releaseNamespace: string,
  namespaces: readonly string[],
): void {
  const templates = ['serviceaccount', 'rbac-cluster', 'rbac-namespaced'];
  const rendered = execFileSync(
    helm,
    [
      'template',
      release,
      CHART,
      '--namespace',
      releaseNamespace,
      '--set',
      `rbac.namespaces={${namespaces.join(',')}}`,
      ...templates.flatMap((template) => ['--show-only', `templates/${template}.yaml`]),
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  kubectl(['apply', '-f', '-'], { input: rendered });
}

/** Best-effort clean-up: deletes namespaces (without waiting) and cluster-scoped objects. */
export function deleteQuietly(namespaces: readonly string[], clusterScoped: readonly string[][] = []): void {
  const quiet = (args: string[]) =>
    spawnSync(KUBECTL, ['--kubeconfig', ADMIN_KUBECONFIG, ...args], { timeout: 60_000 });
  for (const namespace of namespaces) quiet(['delete', 'namespace', namespace, '--wait=false']);
  for (const [kinds, ...names] of clusterScoped) quiet(['delete', kinds!, ...names, '--ignore-not-found']);
}
