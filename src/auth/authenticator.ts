/**
 * Who is calling, and what may they do. Bearer tokens: static tokens (stored as sha256, each with
 * scopes) and Kubernetes ServiceAccount tokens validated with a TokenReview against the cluster,
 * mapped to scopes by configuration. Executing or approving needs `remediate:execute`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { userInfo } from 'node:os';
import { KubemendError } from '../domain/index.js';
import type { ClusterGateway } from '../cluster/gateway.js';
import { type Configuration, type Scope, SCOPES } from '../config/configuration.js';

export interface Principal {
  /** Recorded as actor/approver: `token:<name>`, `system:serviceaccount:<ns>:<name>`, `local:<user>`. */
  readonly name: string;
  readonly scopes: ReadonlySet<Scope>;
  readonly via: 'static-token' | 'service-account' | 'local';
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function requireScope(principal: Principal, scope: Scope): void {
  if (!principal.scopes.has(scope)) {
    throw new KubemendError('forbidden', `${principal.name} lacks the ${scope} scope`);
  }
}

/** The local user (stdio MCP, CLI): the person running the process has every scope. */
export function localPrincipal(): Principal {
  return { name: `local:${userInfo().username}`, scopes: new Set(SCOPES), via: 'local' };
}

export class Authenticator {
  private readonly tokens: ReadonlyArray<{ name: string; digest: Buffer; scopes: Set<Scope> }>;
  private readonly grants: Configuration['auth']['serviceAccounts'];
  private readonly cluster?: ClusterGateway;
  private readonly cache = new Map<string, { principal: Principal | undefined; until: number }>();

  constructor(auth: Configuration['auth'], cluster?: ClusterGateway) {
    this.tokens = auth.tokens.map((token) => ({
      name: token.name,
      digest: Buffer.from(token.sha256, 'hex'),
      scopes: new Set(token.scopes),
    }));
    this.grants = auth.serviceAccounts;
    this.cluster = cluster;
  }

  /** The principal for an `Authorization` header value; `not-authenticated` if there is none. */
  async authenticate(header: string | undefined): Promise<Principal> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!match?.[1])
      throw new KubemendError(
        'not-authenticated',
        'a bearer token is required (Authorization: Bearer <token>)',
      );
    const token = match[1];
    const digest = Buffer.from(hashToken(token), 'hex');
    for (const candidate of this.tokens) {
      if (candidate.digest.length === digest.length && timingSafeEqual(candidate.digest, digest)) {
        return { name: `token:${candidate.name}`, scopes: candidate.scopes, via: 'static-token' };
      }
    }
    const key = digest.toString('hex');
    const cached = this.cache.get(key);
    if (cached && cached.until > Date.now()) {
      if (cached.principal) return cached.principal;
      throw new KubemendError('not-authenticated', 'the bearer token is not valid');
    }
    const principal = await this.reviewServiceAccount(token);
    this.cache.set(key, { principal, until: Date.now() + (principal ? 60_000 : 10_000) });
    if (this.cache.size > 10_000) this.cache.delete(this.cache.keys().next().value as string);
    if (!principal) throw new KubemendError('not-authenticated', 'the bearer token is not valid');
    return principal;
  }

  private async reviewServiceAccount(token: string): Promise<Principal | undefined> {
    if (!this.cluster || this.grants.length === 0 || token.split('.').length !== 3) return undefined;
    let review;
    try {
      review = await this.cluster.tokenReview(token);
    } catch (error) {
      throw new KubemendError(
        'cluster-unreachable',
        `cannot validate the ServiceAccount token: ${(error as Error).message}`,
      );
    }
    if (!review.authenticated || !review.username) return undefined;
    const match = /^system:serviceaccount:([^:]+):(.+)$/.exec(review.username);
    if (!match) return undefined;
    const [, namespace, name] = match;
    const scopes = new Set<Scope>();
    for (const grant of this.grants) {
      if (grant.namespace === namespace && (grant.name === '*' || grant.name === name))
        for (const scope of grant.scopes) scopes.add(scope);
    }
    // A valid ServiceAccount that configuration does not mention is authenticated but may do nothing.
    return { name: review.username, scopes, via: 'service-account' };
  }
}
