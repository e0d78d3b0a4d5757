import { describe, expect, it } from 'vitest';
import { parseAccessRequest, parseApiDenial, resourceLabel, serviceAccountOf } from './access-request.js';

describe('what a subject was refused', () => {
  it("reads the API server's denial, namespaced and cluster-scoped, also with escaped quotes", () => {
    const namespaced = parseApiDenial(
      'deployments.apps "web" is forbidden: User "system:serviceaccount:ci:deployer" cannot patch resource "deployments" in API group "apps" in the namespace "ci"',
    );
    expect(namespaced).toMatchObject({
      user: 'system:serviceaccount:ci:deployer',
      verb: 'patch',
      resource: 'deployments',
      apiGroup: 'apps',
      namespace: 'ci',
      from: 'api-error',
    });
    const cluster = parseApiDenial(
      'nodes is forbidden: User \\"system:serviceaccount:ops:agent\\" cannot list resource \\"nodes\\" in API group \\"\\" at the cluster scope',
    );
    expect(cluster).toMatchObject({ verb: 'list', resource: 'nodes', apiGroup: '', clusterScope: true });
    expect(parseApiDenial('pods "x" is forbidden: violates PodSecurity "restricted:latest"')).toBeUndefined();
  });

  it('reads a question in plain words, with the resource group and the namespace', () => {
    expect(parseAccessRequest("why can't my ServiceAccount reporter list pods?")).toMatchObject({
      verb: 'list',
      resource: 'pods',
      apiGroup: '',
      from: 'question',
    });
    expect(
      parseAccessRequest(
        "Why can't the metrics-scraper service account list pods in namespace observability?",
      ),
    ).toMatchObject({ verb: 'list', resource: 'pods', namespace: 'observability' });
    expect(parseAccessRequest("backup-operator service account can't create jobs, why?")).toMatchObject({
      verb: 'create',
      resource: 'jobs',
      apiGroup: 'batch',
    });
    expect(parseAccessRequest('deployer cannot update the web deployment in the ci namespace')).toMatchObject(
      {
        verb: 'update',
        resource: 'deployments',
        apiGroup: 'apps',
        namespace: 'ci',
      },
    );
    expect(parseAccessRequest('the pods cannot start')).toBeUndefined();
  });

  it('names ServiceAccounts and resources as RBAC spells them', () => {
    expect(serviceAccountOf('system:serviceaccount:ns:sa')).toEqual({ namespace: 'ns', name: 'sa' });
    expect(serviceAccountOf('jane@example.com')).toBeUndefined();
    expect(resourceLabel({ resource: 'pods', subresource: 'log', apiGroup: '' })).toBe('pods/log');
    expect(resourceLabel({ resource: 'leases', apiGroup: 'coordination.k8s.io' })).toBe(
      'leases.coordination.k8s.io',
    );
  });
});
