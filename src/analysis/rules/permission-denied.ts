import type { Evidence } from '../../domain/index.js';
import { CONFIDENCE } from '../finding.js';
import { eventEvidence, logEvidence } from '../facts.js';
import { API_FORBIDDEN } from '../signals.js';
import { finding, type Rule } from './rule.js';

export const permissionDeniedRule: Rule = {
  category: 'permission-denied',
  evaluate(facts) {
    const line = facts.findLog(API_FORBIDDEN);
    const event = facts.events.find((e) => API_FORBIDDEN.test(e.message));
    const source = line?.line ?? event?.message;
    if (!source) {
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
    const match = API_FORBIDDEN.exec(source)!;
    const user = match[1] ?? '';
    const verb = match[2] ?? '';
    const resource = match[3] ?? '';
    const apiGroup = match[4] ?? '';
    const namespace = match[5];
    const account = /^system:serviceaccount:([^:]+):(.+)$/.exec(user);
    const evidence: Evidence[] = [];
    if (line) evidence.push(logEvidence(line));
    if (event) evidence.push(eventEvidence(event));
    const factors: string[] = [];
    if (!namespace) factors.push('the request is cluster-scoped: a namespaced Role cannot grant it');
    const count = facts.countLogs(API_FORBIDDEN);
    if (count > 1) factors.push(`${count} forbidden responses in the logs`);
    return finding('permission-denied', facts, {
      confidence: CONFIDENCE.strong,
      rootCause: `${account ? `ServiceAccount ${account[1]}/${account[2]}` : `User ${user}`} is not allowed to ${verb} ${resource}${apiGroup ? ` (API group ${apiGroup})` : ''}${namespace ? ` in namespace ${namespace}` : ' at the cluster scope'}: RBAC denies the request.`,
      factors,
      evidence,
      details: {
        serviceAccount: account?.[2],
        rbac: { verb, resource, apiGroup, namespace },
      },
    });
  },
};
