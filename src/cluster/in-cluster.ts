/**
 * In-cluster connection: the pod's ServiceAccount (token, ca.crt, namespace in one directory) and
 * the API server address the kubelet puts in every pod's environment.
 *
 * Projected ServiceAccount tokens expire (an hour by default) and the kubelet rewrites the file
 * before they do. client-node's own in-cluster loader reads a fixed path and keeps a token for
 * 60 s whatever happens to the file; here the token file is checked on every request (one stat)
 * and re-read as soon as it changed, so a rotated — or revoked and replaced — token is used at
 * once. When a re-read fails, the last token read is kept (the Kubernetes client guidelines).
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { isIPv6 } from 'node:net';
import { join } from 'node:path';
import { KubeConfig, type User } from '@kubernetes/client-node';
import { KubernetesApiError } from './errors.js';

/** The auth-provider name that selects {@link RotatingTokenFile} (not client-node's FileAuth). */
export const SERVICE_ACCOUNT_AUTH_PROVIDER = 'kubemend-serviceaccount-token';

export interface InClusterSettings {
  readonly host: string;
  readonly port: number;
  /** Directory with `token`, `ca.crt` and (optionally) `namespace`. */
  readonly serviceAccountDir: string;
}

/** A KubeConfig for the pod's ServiceAccount; throws naming the missing file. */
export function inClusterKubeConfig(settings: InClusterSettings): KubeConfig {
  const tokenPath = join(settings.serviceAccountDir, 'token');
  const caFile = join(settings.serviceAccountDir, 'ca.crt');
  for (const file of [tokenPath, caFile]) {
    if (!existsSync(file))
      throw new KubernetesApiError(
        0,
        `in-cluster: ${file} does not exist (cluster.serviceAccountDir / KUBEMEND_SERVICE_ACCOUNT_DIR)`,
      );
  }
  const namespaceFile = join(settings.serviceAccountDir, 'namespace');
  const namespace = existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : undefined;
  const host = isIPv6(settings.host) ? `[${settings.host}]` : settings.host;
  const kubeConfig = new KubeConfig();
  // Registered before the user that names it (client-node asks authenticators in order).
  kubeConfig.addAuthenticator(new RotatingTokenFile());
  kubeConfig.loadFromOptions({
    clusters: [
      { name: 'in-cluster', server: `https://${host}:${settings.port}`, caFile, skipTLSVerify: false },
    ],
    users: [
      {
        name: 'service-account',
        authProvider: { name: SERVICE_ACCOUNT_AUTH_PROVIDER, config: { tokenPath } },
      },
    ],
    contexts: [{ name: 'in-cluster', cluster: 'in-cluster', user: 'service-account', namespace }],
    currentContext: 'in-cluster',
  });
  return kubeConfig;
}

/** client-node's authenticator shape (not exported by the package: taken from addAuthenticator). */
type Authenticator = Parameters<KubeConfig['addAuthenticator']>[0];

/** Bearer token from a file, re-read whenever the file changes (inode, size or mtime). */
export class RotatingTokenFile implements Authenticator {
  private cached?: { readonly version: string; readonly token: string };

  isAuthProvider(user: User): boolean {
    return user.authProvider?.name === SERVICE_ACCOUNT_AUTH_PROVIDER;
  }

  async applyAuthentication(user: User, options: { headers?: Record<string, unknown> }): Promise<void> {
    const path = (user.authProvider?.config as { tokenPath?: string } | undefined)?.tokenPath;
    if (!path) throw new KubernetesApiError(0, 'in-cluster: no token path configured');
    const token = await this.token(path);
    options.headers ??= {};
    options.headers.Authorization = `Bearer ${token}`;
  }

  /** The current token; the file is read again only when it changed since the last read. */
  async token(path: string): Promise<string> {
    try {
      // stat follows the kubelet's ..data symlink: an atomic swap shows up as a new inode.
      const info = await stat(path);
      const version = `${info.ino}:${info.size}:${info.mtimeMs}`;
      if (this.cached?.version !== version) {
        const token = (await readFile(path, 'utf8')).trim();
        if (!token) throw new Error(`${path} is empty`);
        this.cached = { version, token };
      }
    } catch (cause) {
      if (!this.cached)
        throw new KubernetesApiError(0, `in-cluster: cannot read the ServiceAccount token ${path}`, {
          cause,
        });
    }
    return this.cached!.token;
  }
}
