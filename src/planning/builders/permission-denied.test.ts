import {
  advice,
  builderTable,
  change,
  type Manifest,
  NS,
  templatePatch,
  workload,
} from '../../../test/support/builders.js';
import { permissionDenied } from './permission-denied.js';

const api = workload('Deployment', 'checkout');
const listPods = { verb: 'list', resource: 'pods', apiGroup: '', namespace: NS };
const rbac = (kind: string, name: string, rest: Record<string, unknown>): Manifest => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind,
  metadata: { name, namespace: NS },
  ...rest,
});

builderTable('permission-denied', permissionDenied, [
  {
    name: 'allowed ServiceAccount: run as the one already bound to a Role that allows it',
    details: { workload: api, serviceAccount: 'default', rbac: listPods },
    context: {
      resources: [
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'checkout-reader', namespace: NS } },
        rbac('Role', 'pod-reader', {
          rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }],
        }),
        rbac('RoleBinding', 'checkout-reader', {
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
          subjects: [{ kind: 'ServiceAccount', name: 'checkout-reader', namespace: NS }],
        }),
      ],
    },
    expect: [
      change('Deployment shop/checkout', templatePatch({ serviceAccountName: 'checkout-reader' }), {
        words: ['is bound (RoleBinding checkout-reader) to pod-reader', 'No permission is added'],
      }),
    ],
  },
  {
    name: 'narrow Role: exactly the denied verb, and its RoleBinding, both at high risk',
    details: {
      workload: api,
      serviceAccount: 'checkout',
      rbac: { verb: 'watch', resource: 'configmaps', apiGroup: '', namespace: NS },
    },
    expect: [
      {
        type: 'create',
        target: 'Role shop/checkout-configmaps-watch',
        params: {
          manifest: rbac('Role', 'checkout-configmaps-watch', {
            rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['watch'] }],
          }),
        },
        minimumRisk: 'high',
        words: ['never cluster-wide', '--as=system:serviceaccount:shop:checkout'],
      },
      {
        type: 'create',
        target: 'RoleBinding shop/checkout-configmaps-watch',
        params: {
          manifest: rbac('RoleBinding', 'checkout-configmaps-watch', {
            roleRef: {
              apiGroup: 'rbac.authorization.k8s.io',
              kind: 'Role',
              name: 'checkout-configmaps-watch',
            },
            subjects: [{ kind: 'ServiceAccount', name: 'checkout', namespace: NS }],
          }),
        },
        minimumRisk: 'high',
      },
    ],
  },
  {
    name: 'no strategy applies to a cluster-scoped request: an administrator decides',
    rootCause: 'ServiceAccount checkout may not list nodes.',
    details: {
      workload: api,
      serviceAccount: 'checkout',
      rbac: { verb: 'list', resource: 'nodes', apiGroup: '' },
    },
    expect: [
      advice('Deployment shop/checkout', [
        'Grant the missing permission (a person decides)',
        'The request is cluster-scoped',
        'never cluster-admin',
      ]),
    ],
  },
  {
    name: 'no strategy applies to the default ServiceAccount: kubemend grants it nothing',
    details: { workload: api, serviceAccount: 'default', rbac: listPods },
    expect: [advice('Deployment shop/checkout', ['grant only the verb and resource named in the error'])],
  },
]);
