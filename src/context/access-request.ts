/**
 * What a subject was refused, read from text: the API server's RBAC denial
 * (`… is forbidden: User "system:serviceaccount:ns:sa" cannot list resource "pods" in API group ""
 * in the namespace "ns"`, format of k8s.io/apiserver `responsewriters/errors.go`), or a person's
 * question in plain words ("why can't my ServiceAccount deployer list pods in namespace ci?").
 * Live gathering uses it to confirm the denial with a SubjectAccessReview; the rules to name the
 * missing rule.
 */

export interface AccessRequestText {
  /** The user as the API server names it, when the text says (`system:serviceaccount:ns:sa`). */
  readonly user?: string;
  readonly verb: string;
  /** Plural resource, without the subresource. */
  readonly resource: string;
  readonly subresource?: string;
  readonly apiGroup: string;
  /** Absent for a cluster-scoped request, or when plain words do not say. */
  readonly namespace?: string;
  readonly clusterScope?: boolean;
  /** The exact words the request was read from. */
  readonly quote: string;
  readonly from: 'api-error' | 'question';
}

/** The apiserver's RBAC denial, also when a log line escapes its quotes (`User \\"x\\"`). */
export const API_FORBIDDEN =
  /is forbidden: User \\?"([^"\\]+)\\?" cannot ([\w-]+) resource \\?"([^"\\]+)\\?" in API group \\?"([^"\\]*)\\?"(?: in the namespace \\?"([^"\\]+)\\?"| (at the cluster scope))?/;

/** Kubernetes API verbs a question may name (and `read` for `get`). */
const VERBS: Readonly<Record<string, string>> = {
  get: 'get',
  read: 'get',
  list: 'list',
  watch: 'watch',
  create: 'create',
  update: 'update',
  patch: 'patch',
  delete: 'delete',
  deletecollection: 'deletecollection',
};

/** Resources a question may name, singular or plural, with their API group. */
const RESOURCES: ReadonlyArray<readonly [RegExp, string, string]> = [
  [/^pods?$/, 'pods', ''],
  [/^(?:pods?\/)?logs?$/, 'pods/log', ''],
  [/^services?$/, 'services', ''],
  [/^endpoints?$/, 'endpoints', ''],
  [/^configmaps?$/, 'configmaps', ''],
  [/^secrets?$/, 'secrets', ''],
  [/^events?$/, 'events', ''],
  [/^serviceaccounts?$/, 'serviceaccounts', ''],
  [/^(?:persistentvolumeclaims?|pvcs?)$/, 'persistentvolumeclaims', ''],
  [/^nodes?$/, 'nodes', ''],
  [/^namespaces?$/, 'namespaces', ''],
  [/^deployments?$/, 'deployments', 'apps'],
  [/^statefulsets?$/, 'statefulsets', 'apps'],
  [/^daemonsets?$/, 'daemonsets', 'apps'],
  [/^replicasets?$/, 'replicasets', 'apps'],
  [/^jobs?$/, 'jobs', 'batch'],
  [/^cronjobs?$/, 'cronjobs', 'batch'],
  [/^ingress(?:es)?$/, 'ingresses', 'networking.k8s.io'],
  [/^leases?$/, 'leases', 'coordination.k8s.io'],
  [/^(?:horizontalpodautoscalers?|hpas?)$/, 'horizontalpodautoscalers', 'autoscaling'],
];

const QUESTION =
  /\b(?:can't|can’t|cannot|can not|unable to|not able to|not allowed to|isn't allowed to|is not allowed to|fails? to|failing to|forbidden to)\s+(?:[\w.:'’-]+\s+){0,5}?(get|read|list|watch|create|update|patch|delete|deletecollection)((?:\s+[a-z0-9./-]+){1,4})/i;
const NAMESPACE_WORDS =
  /\bin (?:the )?namespace "?([a-z0-9][a-z0-9-]{0,62})"?|\bin the ([a-z0-9][a-z0-9-]{0,62}) namespace\b|(?:^|\s)-n\s+([a-z0-9][a-z0-9-]{0,62})/i;

function splitResource(resource: string): { resource: string; subresource?: string } {
  const [main, sub] = resource.split('/', 2);
  return { resource: main ?? resource, ...(sub ? { subresource: sub } : {}) };
}

/** The API server's denial in a line of text, if there is one. */
export function parseApiDenial(text: string): AccessRequestText | undefined {
  const match = API_FORBIDDEN.exec(text);
  if (!match) return undefined;
  return {
    user: match[1],
    verb: match[2] ?? '',
    ...splitResource(match[3] ?? ''),
    apiGroup: match[4] ?? '',
    ...(match[5] ? { namespace: match[5] } : {}),
    ...(match[6] ? { clusterScope: true } : {}),
    quote: match[0],
    from: 'api-error',
  };
}

/** A denial in the text, else a question in plain words naming a verb and a known resource. */
export function parseAccessRequest(text: string): AccessRequestText | undefined {
  const denial = parseApiDenial(text);
  if (denial) return denial;
  const question = QUESTION.exec(text);
  if (!question?.[1] || !question[2]) return undefined;
  const verb = VERBS[question[1].toLowerCase()];
  // The first word after the verb that names a resource ("update the web deployment").
  const known = question[2]
    .trim()
    .split(/\s+/)
    .map((word) => word.toLowerCase().replace(/[?.,!]+$/, ''))
    .map((word) => RESOURCES.find(([pattern]) => pattern.test(word)))
    .find((entry) => entry !== undefined);
  if (!verb || !known) return undefined;
  const namespaceMatch = NAMESPACE_WORDS.exec(text);
  const namespace = namespaceMatch?.[1] ?? namespaceMatch?.[2] ?? namespaceMatch?.[3];
  return {
    verb,
    ...splitResource(known[1]),
    apiGroup: known[2],
    ...(namespace ? { namespace } : {}),
    quote: question[0],
    from: 'question',
  };
}

/** `system:serviceaccount:ns:name` → the ServiceAccount, if the user is one. */
export function serviceAccountOf(user: string | undefined): { namespace: string; name: string } | undefined {
  const match = /^system:serviceaccount:([^:]+):(.+)$/.exec(user ?? '');
  return match?.[1] && match[2] ? { namespace: match[1], name: match[2] } : undefined;
}

/** `pods`, `pods/log`, `deployments.apps`: the resource as kubectl and RBAC rules spell it. */
export function resourceLabel(request: Pick<AccessRequestText, 'resource' | 'subresource' | 'apiGroup'>) {
  const resource = request.subresource ? `${request.resource}/${request.subresource}` : request.resource;
  return request.apiGroup ? `${resource}.${request.apiGroup}` : resource;
}
