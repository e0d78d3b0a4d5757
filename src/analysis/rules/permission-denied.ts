/**
 * RBAC denials: the API server's `forbidden` message in the logs, the events or the issue text,
 * or a question about a ServiceAccount ("why can't my ServiceAccount deployer list pods?"). The
 * finding names the subject, the exact verb/resource/group refused, the bindings that name the
 * subject and the rules they grant, and the SubjectAccessReview that confirms it when one was made.
 */
import { type Evidence, asArray, asBoolean, asString, at } from '../../domain/index.js';
import {
  type AccessRequestText,
  parseAccessRequest,
  parseApiDenial,
  resourceLabel,
  serviceAccountOf,
} from '../../context/access-request.js';
import type { KubernetesObject } from '../../context/model.js';
import { CONFIDENCE } from '../finding.js';
import { eventEvidence, type Facts, logEvidence } from '../facts.js';
import { API_FORBIDDEN } from '../signals.js';
import { finding, type Rule } from './rule.js';

interface Account {
  readonly namespace: string;
  readonly name: string;
}

/** Bindings in the context that name the ServiceAccount, with what their role grants. */
function grantsOf(facts: Facts, account: Account): string[] {
  const out: string[] = [];
  for (const binding of facts.ctx.objects) {
    if (binding.kind !== 'RoleBinding' && binding.kind !== 'ClusterRoleBinding') continue;
    const names = asArray(binding.raw.subjects).some(
      (subject) =>
        asString(at(subject, 'kind')) === 'ServiceAccount' &&
        asString(at(subject, 'name')) === account.name &&
        (asString(at(subject, 'namespace')) ?? binding.namespace) === account.namespace,
    );
    if (!names) continue;
    const roleKind = asString(at(binding.raw, 'roleRef', 'kind')) ?? 'Role';
    const roleName = asString(at(binding.raw, 'roleRef', 'name')) ?? '';
    const role = facts.ctx.objects.find((o) => o.kind === roleKind && o.name === roleName);
    const rules = role ? describeRules(role) : 'rules not in the context';
    out.push(`${binding.kind} ${binding.name} → ${roleKind} ${roleName} (${rules})`);
  }
  return out;
}

function describeRules(role: KubernetesObject): string {
  const rules = asArray(role.raw.rules).map((rule) => {
    const verbs = asArray(at(rule, 'verbs')).map(String).join(', ');
    const resources = asArray(at(rule, 'resources')).map(String).join(', ');
    const groups = asArray(at(rule, 'apiGroups'))
      .map((g) => (String(g) === '' ? 'core' : String(g)))
      .join(', ');
    return `${verbs} on ${resources} [${groups}]`;
  });
  return rules.length > 0 ? rules.join('; ') : 'no rules';
}

/** The SubjectAccessReview gathered live for this request, if any. */
function reviewFor(facts: Facts, account: Account, request: AccessRequestText) {
  return facts.ctx.objects.find(
    (o) =>
      o.kind === 'SubjectAccessReview' &&
      asString(at(o.raw, 'spec', 'user')) === `system:serviceaccount:${account.namespace}:${account.name}` &&
      asString(at(o.raw, 'spec', 'resourceAttributes', 'verb')) === request.verb &&
      asString(at(o.raw, 'spec', 'resourceAttributes', 'resource')) === request.resource,
  );
}

export const permissionDeniedRule: Rule = {
  category: 'permission-denied',
  evaluate(facts) {
    const line = facts.findLog(API_FORBIDDEN);
    const event = facts.events.find((e) => API_FORBIDDEN.test(e.message));
    const fromIssue = parseAccessRequest(facts.ctx.issue);
    const target = facts.ctx.target?.kind === 'ServiceAccount' ? facts.ctx.target : undefined;
    const denial =
      (line ? parseApiDenial(line.line) : undefined) ??
      (event ? parseApiDenial(event.message) : undefined) ??
      (fromIssue?.from === 'api-error' ? fromIssue : undefined);
    // A question in plain words counts only when it is about a ServiceAccount.
    const question = !denial && target && fromIssue ? fromIssue : undefined;
    const request = denial ?? question;
    if (!request) {
      const unauthorized = facts.findLog(
        /\b401\b.*Unauthorized|Unauthorized.*(?:kubernetes|apiserver|api server|serviceaccount)|invalid bearer token|token has expired/i,
      );
      if (!unauthorized) return undefined;
      return finding('permission-denied', facts, {
        confidence: CONFIDENCE.weak + 0.1,
        rootCause: `${facts.describeSubject()} is rejected by the Kubernetes API as Unauthorized (401): its ServiceAccount token is missing, expired or not mounted — not an RBAC rule.`,
        evidence: [logEvidence(unauthorized)],
        factors: ['401 means authentication failed; RBAC denials are 403 "forbidden"'],
      });
    }
    const targetNamespace = target?.namespace ?? facts.namespace;
    const account: Account | undefined =
      serviceAccountOf(request.user) ??
      (target && targetNamespace ? { namespace: targetNamespace, name: target.name } : undefined);
    const namespace = request.clusterScope ? undefined : (request.namespace ?? account?.namespace);
    const evidence: Evidence[] = [];
    if (line) evidence.push(logEvidence(line));
    if (event) evidence.push(eventEvidence(event));
    if (!line && !event && fromIssue)
      evidence.push({ quote: fromIssue.quote, kind: 'issue', origin: 'input' });
    const factors: string[] = [];
    let confidence: number = denial ? CONFIDENCE.strong : CONFIDENCE.good;
    if (!namespace) factors.push('the request is cluster-scoped: a namespaced Role cannot grant it');
    const count = facts.countLogs(API_FORBIDDEN);
    if (count > 1) factors.push(`${count} forbidden responses in the logs`);
    if (account) {
      const grants = grantsOf(facts, account);
      factors.push(
        grants.length > 0
          ? `ServiceAccount ${account.namespace}/${account.name} is bound by ${grants.join('; ')}: none grants ${request.verb} on ${resourceLabel(request)}`
          : `no RoleBinding or ClusterRoleBinding in the context names ServiceAccount ${account.namespace}/${account.name}`,
      );
      const review = reviewFor(facts, account, request);
      if (review) {
        const allowed = asBoolean(at(review.raw, 'status', 'allowed')) === true;
        evidence.push({
          quote: `SubjectAccessReview as system:serviceaccount:${account.namespace}:${account.name}: ${request.verb} ${resourceLabel(request)}${namespace ? ` in ${namespace}` : ''} → ${allowed ? 'allowed' : 'denied'}`,
          kind: 'status',
          origin: 'cluster',
        });
        factors.push(
          `the API server's SubjectAccessReview as that ServiceAccount answers ${allowed ? 'allowed' : 'denied'} for ${request.verb} ${resourceLabel(request)}${namespace ? ` in ${namespace}` : ''}`,
        );
        if (allowed) {
          confidence = CONFIDENCE.weak;
          factors.push(
            'the API server allows the request now: the permission was granted since, or it was another subject',
          );
        } else confidence = Math.max(confidence, CONFIDENCE.certain);
      }
    }
    const who = account
      ? `ServiceAccount ${account.namespace}/${account.name}`
      : `User ${request.user ?? '(unknown)'}`;
    return finding('permission-denied', facts, {
      confidence,
      rootCause: `${who} is not allowed to ${request.verb} ${request.resource}${request.subresource ? `/${request.subresource}` : ''}${request.apiGroup ? ` (API group ${request.apiGroup})` : ''}${namespace ? ` in namespace ${namespace}` : ' at the cluster scope'}: no Role or ClusterRole bound to it grants that, so RBAC denies the request.`,
      factors,
      evidence,
      ...(target && account
        ? {
            subject: {
              kind: 'ServiceAccount',
              apiVersion: 'v1',
              name: account.name,
              namespace: account.namespace,
            },
          }
        : {}),
      details: {
        serviceAccount: account?.name,
        serviceAccountNamespace: account?.namespace,
        rbac: {
          verb: request.verb,
          resource: request.subresource ? `${request.resource}/${request.subresource}` : request.resource,
          apiGroup: request.apiGroup,
          namespace,
        },
      },
    });
  },
};
