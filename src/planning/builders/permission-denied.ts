/**
 * Permission denied: run the workload as a ServiceAccount already allowed to do what was denied, or
 * grant exactly the denied verb on the resource in that namespace (a Role and its RoleBinding, at
 * high risk). Never cluster-wide: a cluster-scoped request is a person's decision.
 */
import type { Facts } from '../../analysis/facts.js';
import type { FindingDetails } from '../../analysis/finding.js';
import { advise, builderOf, describe, podSpecFix, rolloutVerification, type Strategy } from './shared.js';
import { asArray, asString, at } from '../../domain/index.js';

type Denied = NonNullable<FindingDetails['rbac']>;

/** Does the Role or ClusterRole of that name allow the denied request? */
function grants(facts: Facts, roleName: string | undefined, rbac: Denied): boolean {
  const role = facts.ctx.objects.find(
    (o) => (o.kind === 'Role' || o.kind === 'ClusterRole') && o.name === roleName,
  );
  if (!role) return false;
  return asArray(role.raw.rules).some((rule) => {
    const verbs = asArray(at(rule, 'verbs')).map(String);
    const resources = asArray(at(rule, 'resources')).map(String);
    const groups = asArray(at(rule, 'apiGroups')).map(String);
    return (
      (verbs.includes(rbac.verb) || verbs.includes('*')) &&
      (resources.includes(rbac.resource) || resources.includes('*')) &&
      (groups.includes(rbac.apiGroup) || groups.includes('*'))
    );
  });
}

/** A ServiceAccount in the namespace that is already bound to a Role granting the denied request. */
function dedicatedServiceAccount(
  facts: Facts,
  current: string | undefined,
  rbac: Denied,
): { name: string; why: string } | undefined {
  for (const binding of facts.ctx.objects.filter(
    (o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding',
  )) {
    const roleName = asString(at(binding.raw, 'roleRef', 'name'));
    for (const subject of asArray(binding.raw.subjects)) {
      if (asString(at(subject, 'kind')) !== 'ServiceAccount') continue;
      const name = asString(at(subject, 'name'));
      if (!name || name === current) continue;
      const exists = facts.ctx.objects.some((o) => o.kind === 'ServiceAccount' && o.name === name);
      const role = facts.ctx.objects.some(
        (o) => (o.kind === 'Role' || o.kind === 'ClusterRole') && o.name === roleName,
      );
      if (grants(facts, roleName, rbac))
        return {
          name,
          why: `is bound (${binding.kind} ${binding.name}) to ${roleName}, which allows exactly that`,
        };
      if (exists && !role && current === 'default' && facts.workload && name === facts.workload.name) {
        return { name, why: `is bound by ${binding.kind} ${binding.name} and named after the workload` };
      }
    }
  }
  return undefined;
}

/** Another ServiceAccount of the namespace may already do it: run as that one, adding no permission. */
const allowedServiceAccount: Strategy = ({ details: d, controlled, facts }) => {
  const rbac = d.rbac;
  const dedicated = rbac ? dedicatedServiceAccount(facts, d.serviceAccount, rbac) : undefined;
  if (!controlled || !rbac || !dedicated) return undefined;
  return podSpecFix(
    controlled,
    { serviceAccountName: dedicated.name },
    {
      description: `Run ${describe(controlled)} as ServiceAccount ${dedicated.name}`,
      rationale: `The pods run as ServiceAccount ${d.serviceAccount}, which is not allowed to ${rbac.verb} ${rbac.resource}. ServiceAccount ${dedicated.name} exists in the namespace and ${dedicated.why}. No permission is added.`,
      verification: rolloutVerification(
        controlled,
        '2m',
        `the application no longer logs "forbidden" for ${rbac.verb} ${rbac.resource}`,
      ),
    },
  );
};

/** A namespaced request by a dedicated ServiceAccount: a Role with exactly that verb, and its RoleBinding. */
const narrowRole: Strategy = ({ details: d, facts }) => {
  const rbac = d.rbac;
  if (!rbac || !rbac.namespace || !d.serviceAccount || d.serviceAccount === 'default') return undefined;
  const roleName = `${d.serviceAccount}-${rbac.resource.replace(/[^a-z0-9-]/g, '-')}-${rbac.verb}`
    .slice(0, 63)
    .replace(/-+$/, '');
  const rbacApi = 'rbac.authorization.k8s.io/v1';
  const role = {
    apiVersion: rbacApi,
    kind: 'Role',
    metadata: { name: roleName, namespace: rbac.namespace },
    rules: [{ apiGroups: [rbac.apiGroup], resources: [rbac.resource], verbs: [rbac.verb] }],
  };
  const serviceAccountNamespace = d.serviceAccountNamespace ?? facts.namespace ?? rbac.namespace;
  const binding = {
    apiVersion: rbacApi,
    kind: 'RoleBinding',
    metadata: { name: roleName, namespace: rbac.namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleName },
    subjects: [{ kind: 'ServiceAccount', name: d.serviceAccount, namespace: serviceAccountNamespace }],
  };
  return [
    {
      type: 'create',
      target: { apiVersion: rbacApi, kind: 'Role', name: roleName, namespace: rbac.namespace },
      params: { manifest: role },
      description: `Create Role ${roleName} allowing only ${rbac.verb} on ${rbac.resource}${rbac.apiGroup ? ` (${rbac.apiGroup})` : ''} in ${rbac.namespace}`,
      rationale:
        'Grants exactly the verb, resource and API group that were refused, in that namespace only: a new Role for this ServiceAccount alone (widening an existing Role would widen every subject bound to it); never cluster-wide, never a wildcard.',
      verification: `kubectl auth can-i ${rbac.verb} ${rbac.resource} -n ${rbac.namespace} --as=system:serviceaccount:${serviceAccountNamespace}:${d.serviceAccount} answers yes.`,
      minimumRisk: 'high',
    },
    {
      type: 'create',
      target: { apiVersion: rbacApi, kind: 'RoleBinding', name: roleName, namespace: rbac.namespace },
      params: { manifest: binding },
      description: `Bind Role ${roleName} to ServiceAccount ${d.serviceAccount}`,
      rationale: 'Binds the narrow Role to the one ServiceAccount that needs it.',
      verification: `The application no longer logs "forbidden" for ${rbac.verb} ${rbac.resource}.`,
      minimumRisk: 'high',
    },
  ];
};

export const permissionDenied = builderOf([allowedServiceAccount, narrowRole], (context) => {
  const rbac = context.details.rbac;
  return advise(context, {
    description: 'Grant the missing permission (a person decides)',
    instructions: `${context.finding.rootCause} ${rbac && !rbac.namespace ? 'The request is cluster-scoped: a cluster administrator must decide whether to grant a ClusterRole with exactly this verb and resource (never cluster-admin).' : 'Check the ServiceAccount the workload runs as, and grant only the verb and resource named in the error.'}`,
    rationale: 'Cluster-wide RBAC is a security decision.',
  });
});
