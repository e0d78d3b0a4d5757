// The Helm chart (deploy/helm/kubemend) with the real `helm` (built from the Go module proxy) and
// the real control plane:
// - `helm lint` for the default values and every value set in ci/;
// - `helm template` for SQLite with one replica, PostgreSQL with three, monitoring on — each
//   applied with `kubectl apply --dry-run=server` (ServiceMonitor and PrometheusRule against
//   minimal monitoring.coreos.com CRDs this test installs: the fields the chart uses, typed as
//   upstream, with strict field validation so a misspelt field fails);
// - the configuration and policy files the chart renders load in kubemend itself;
// - refusals with a clear message: replicas > 1 on SQLite, protected namespaces, unknown values;
// - the RBAC part applied for real; the ServiceAccount's rights shown by the real authorizer with
//   `kubectl auth can-i --as=system:serviceaccount:…` and SubjectAccessReviews.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadConfiguration } from '../../src/config/configuration.js';
import { loadPolicies } from '../../src/config/policies.js';
import {
  ADMIN_KUBECONFIG,
  KUBECTL,
  kubectl,
  REPO_ROOT,
  requireCluster,
  uniqueName,
  waitFor,
} from '../cluster/cluster-harness.js';
import { applyChartRbac, CHART, deleteQuietly, helmBinary } from './support.js';

const RELEASE = 'kubemend';
const releaseNamespace = uniqueName('km-release');
const shop = uniqueName('km-shop');
const payments = uniqueName('km-pay');
const other = uniqueName('km-other');
const SA_USER = `system:serviceaccount:${releaseNamespace}:${RELEASE}`;
const CLUSTER_ROLE = `${releaseNamespace}-${RELEASE}-cluster-reader`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Manifest = any;

let helm: string;
let scratch: string;
let authz: k8s.AuthorizationV1Api;

function run(command: string, args: readonly string[], input?: string) {
  const result = spawnSync(command, args, { encoding: 'utf8', input, timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function valuesFile(name: string): string {
  return join(CHART, 'ci', `${name}-values.yaml`);
}

/** `helm template` of the chart in the release namespace, with the test's namespaces opted in. */
function template(values: string | undefined, sets: readonly string[] = [], extra: readonly string[] = []) {
  return run(helm, [
    'template',
    RELEASE,
    CHART,
    '--namespace',
    releaseNamespace,
    ...(values ? ['--values', values] : []),
    ...sets.flatMap((set) => ['--set', set]),
    ...extra,
  ]);
}

function render(
  values: string | undefined,
  sets: readonly string[] = [],
): { text: string; objects: Manifest[] } {
  const result = template(values, sets);
  expect(result.status, result.stderr).toBe(0);
  const objects = parseAllDocuments(result.stdout)
    .map((document) => document.toJS() as Manifest)
    .filter((object) => object);
  return { text: result.stdout, objects };
}

function find(objects: Manifest[], kind: string, namespace?: string): Manifest[] {
  return objects.filter(
    (o) => o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace),
  );
}

/** Minimal Prometheus Operator CRDs: the fields the chart uses, typed as upstream (v0.8x). */
function monitoringCrds(): string {
  const duration = {
    type: 'string',
    pattern: '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$',
  };
  const stringMap = { type: 'object', additionalProperties: { type: 'string' } };
  const crd = (plural: string, kind: string, spec: object) => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.monitoring.coreos.com` },
    spec: {
      group: 'monitoring.coreos.com',
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase() },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', required: ['spec'], properties: { spec } } },
        },
      ],
    },
  });
  const serviceMonitor = crd('servicemonitors', 'ServiceMonitor', {
    type: 'object',
    required: ['selector', 'endpoints'],
    properties: {
      selector: { type: 'object', properties: { matchLabels: stringMap } },
      namespaceSelector: {
        type: 'object',
        properties: { any: { type: 'boolean' }, matchNames: { type: 'array', items: { type: 'string' } } },
      },
      endpoints: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            port: { type: 'string' },
            path: { type: 'string' },
            interval: duration,
            scrapeTimeout: duration,
          },
        },
      },
    },
  });
  const prometheusRule = crd('prometheusrules', 'PrometheusRule', {
    type: 'object',
    properties: {
      groups: {
        type: 'array',
        items: {
          type: 'object',
          required: ['name'],
          properties: {
            name: { type: 'string', minLength: 1 },
            interval: duration,
            rules: {
              type: 'array',
              items: {
                type: 'object',
                required: ['expr'],
                properties: {
                  alert: { type: 'string' },
                  record: { type: 'string' },
                  expr: { 'x-kubernetes-int-or-string': true },
                  for: duration,
                  labels: stringMap,
                  annotations: stringMap,
                },
              },
            },
          },
        },
      },
    },
  });
  return [serviceMonitor, prometheusRule].map((object) => JSON.stringify(object)).join('\n');
}

function dryRunApply(manifest: string): string {
  return kubectl(['apply', '--dry-run=server', '--validate=strict', '-f', '-'], {
    input: manifest,
    timeout: 120_000,
  });
}

beforeAll(async () => {
  helm = helmBinary();
  const admin = await requireCluster();
  authz = admin.makeApiClient(k8s.AuthorizationV1Api);
  scratch = mkdtempSync(join(tmpdir(), 'km-helm-'));
  for (const namespace of [releaseNamespace, shop, payments, other])
    kubectl(['create', 'namespace', namespace]);
  kubectl(['apply', '-f', '-'], { input: monitoringCrds() });
  kubectl([
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    'crd/servicemonitors.monitoring.coreos.com',
    'crd/prometheusrules.monitoring.coreos.com',
  ]);
}, 1_800_000);

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  deleteQuietly(
    [releaseNamespace, shop, payments, other],
    [
      ['clusterrole,clusterrolebinding', CLUSTER_ROLE],
      ['crd', 'servicemonitors.monitoring.coreos.com', 'prometheusrules.monitoring.coreos.com'],
    ],
  );
});

describe('helm lint', () => {
  it('passes for the default values and every value set', () => {
    for (const values of [
      undefined,
      valuesFile('sqlite'),
      valuesFile('postgres'),
      valuesFile('monitoring'),
    ]) {
      const result = run(helm, ['lint', CHART, '--strict', ...(values ? ['--values', values] : [])]);
      expect(result.status, `${values ?? 'defaults'}: ${result.stdout}${result.stderr}`).toBe(0);
    }
  });
});

describe('helm template, applied with server-side dry-run', () => {
  it('SQLite, one replica: PVC at /data, Recreate, no PDB; the API server accepts every object', () => {
    const { text, objects } = render(valuesFile('sqlite'), [`rbac.namespaces={${shop}}`]);
    expect(find(objects, 'ConfigMap').map((o) => o.metadata.name)).not.toContain('kubemend-dashboard');
    const [deployment] = find(objects, 'Deployment');
    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.strategy.type).toBe('Recreate');
    const pod = deployment.spec.template.spec;
    expect(pod.volumes.find((v: Manifest) => v.name === 'data').persistentVolumeClaim.claimName).toBe(
      RELEASE,
    );
    expect(pod.containers[0].securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
    });
    expect(pod.securityContext).toMatchObject({ runAsUser: 65532, runAsNonRoot: true });
    expect(pod.containers[0].livenessProbe.httpGet.path).toBe('/livez');
    expect(pod.containers[0].readinessProbe.httpGet.path).toBe('/readyz');
    expect(pod.topologySpreadConstraints.length).toBeGreaterThan(0);
    expect(find(objects, 'PersistentVolumeClaim')).toHaveLength(1);
    expect(find(objects, 'PodDisruptionBudget')).toHaveLength(0);
    expect(find(objects, 'Role').map((o) => o.metadata.namespace)).toEqual([shop]);
    expect(dryRunApply(text)).toMatch(/deployment\.apps\/kubemend created \(server dry run\)/);
  });

  it('PostgreSQL, three replicas: URL and keys from Secrets, PDB, RollingUpdate, NetworkPolicy; accepted', () => {
    const { text, objects } = render(valuesFile('postgres'), [`rbac.namespaces={${shop},${payments}}`]);
    const [deployment] = find(objects, 'Deployment');
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.strategy.type).toBe('RollingUpdate');
    const container = deployment.spec.template.spec.containers[0];
    const env = Object.fromEntries(container.env.map((e: Manifest) => [e.name, e]));
    expect(env.KUBEMEND_DATABASE_URL.valueFrom.secretKeyRef).toEqual({
      name: 'kubemend-postgres',
      key: 'url',
    });
    expect(env.ANTHROPIC_API_KEY.valueFrom.secretKeyRef).toMatchObject({
      name: 'kubemend-ai',
      optional: true,
    });
    expect(env.KUBEMEND_AUTH_TOKENS_FILE.value).toBe('/etc/kubemend-tokens/tokens.yaml');
    expect(deployment.spec.template.spec.volumes.find((v: Manifest) => v.name === 'data').emptyDir).toEqual(
      {},
    );
    expect(find(objects, 'PersistentVolumeClaim')).toHaveLength(0);
    expect(find(objects, 'PodDisruptionBudget')[0].spec.maxUnavailable).toBe(1);
    expect(find(objects, 'NetworkPolicy')).toHaveLength(1);
    expect(
      find(objects, 'Role')
        .map((o) => o.metadata.namespace)
        .sort(),
    ).toEqual([shop, payments].sort());
    expect(
      find(objects, 'RoleBinding')
        .map((o) => o.metadata.namespace)
        .sort(),
    ).toEqual([shop, payments].sort());
    expect(dryRunApply(text)).toMatch(/poddisruptionbudget\.policy\/kubemend created \(server dry run\)/);
  });

  it('monitoring on: ServiceMonitor and PrometheusRule accepted against the monitoring.coreos.com CRDs, the dashboard ConfigMap', () => {
    const { text, objects } = render(valuesFile('monitoring'), [`rbac.namespaces={${shop}}`]);
    const [monitor] = find(objects, 'ServiceMonitor');
    expect(monitor.spec.endpoints).toEqual([
      { port: 'http', path: '/metrics', interval: '15s', scrapeTimeout: '10s' },
    ]);
    const [rule] = find(objects, 'PrometheusRule');
    const alerts = rule.spec.groups[0].rules.map((r: Manifest) => r.alert);
    expect(alerts).toEqual([
      'KubemendExecutionFailed',
      'KubemendRolledBack',
      'KubemendAuditVerificationFailed',
      'KubemendApprovalPendingTooLong',
      'KubemendNotificationsStuck',
      'KubemendNotificationsGivenUp',
    ]);
    expect(rule.spec.groups[0].rules[4].expr).toContain('kubemend_notification_oldest_waiting_age_seconds');
    expect(rule.spec.groups[0].rules[4].expr).toContain('> 900');
    expect(rule.spec.groups[0].rules[3].expr).toContain('> 1800');
    // The dashboard, for Grafana's sidecar: its label, the folder, and the file itself, intact.
    const [dashboard] = find(objects, 'ConfigMap').filter((o) => o.metadata.name === 'kubemend-dashboard');
    expect(dashboard.metadata.labels.grafana_dashboard).toBe('1');
    expect(dashboard.metadata.annotations).toEqual({ grafana_folder: 'kubemend' });
    expect(JSON.parse(dashboard.data['kubemend-dashboard.json'])).toEqual(
      JSON.parse(readFileSync(join(CHART, 'dashboards', 'kubemend-dashboard.json'), 'utf8')),
    );
    const out = dryRunApply(text);
    expect(out).toMatch(/configmap\/kubemend-dashboard created \(server dry run\)/);
    expect(out).toMatch(/servicemonitor\.monitoring\.coreos\.com\/kubemend created \(server dry run\)/);
    expect(out).toMatch(/prometheusrule\.monitoring\.coreos\.com\/kubemend created \(server dry run\)/);
    // The CRDs are strict: a misspelt field is refused, so the acceptance above means something.
    const misspelt = text.replace('scrapeTimeout:', 'scrapeTimout:');
    expect(() => dryRunApply(misspelt)).toThrow(/unknown field "spec\.endpoints\[0\]\.scrapeTimout"/);
  });

  it('renders a configuration that kubemend loads with the pod’s environment (secrets stand-ins)', () => {
    for (const name of ['sqlite', 'postgres', 'monitoring']) {
      const { objects } = render(valuesFile(name), [`rbac.namespaces={${shop}}`]);
      const [configMap] = find(objects, 'ConfigMap');
      const container = find(objects, 'Deployment')[0].spec.template.spec.containers[0];
      // The container's environment, with files from this test and stand-ins for Secret values.
      const env: Record<string, string> = {};
      for (const variable of container.env as Manifest[]) {
        if (variable.value !== undefined) env[variable.name] = variable.value;
        else if (variable.valueFrom?.secretKeyRef)
          env[variable.name] =
            variable.name === 'KUBEMEND_DATABASE_URL'
              ? 'postgres://kubemend:pw@postgres:5432/kubemend'
              : 'sk-test';
      }
      env.KUBEMEND_CONFIG = join(scratch, `${name}.yaml`);
      writeFileSync(env.KUBEMEND_CONFIG, configMap.data['kubemend.yaml']);
      if (env.KUBEMEND_POLICY_FILE) {
        env.KUBEMEND_POLICY_FILE = join(scratch, `${name}-policies.yaml`);
        writeFileSync(env.KUBEMEND_POLICY_FILE, configMap.data['policies.yaml']);
        expect(loadPolicies(env.KUBEMEND_POLICY_FILE).defaultName).toBe('careful');
      }
      if (env.KUBEMEND_AUTH_TOKENS_FILE) {
        env.KUBEMEND_AUTH_TOKENS_FILE = join(scratch, `${name}-tokens.yaml`);
        writeFileSync(
          env.KUBEMEND_AUTH_TOKENS_FILE,
          `- { name: ops, sha256: ${'c'.repeat(64)}, scopes: [audit:read] }\n`,
        );
      }
      const configuration = loadConfiguration({ env });
      expect(configuration.server).toMatchObject({ host: '0.0.0.0', port: 8080 });
      expect(configuration.dataDir).toBe('/data');
      expect(configuration.storage.driver).toBe(name === 'postgres' ? 'postgres' : 'sqlite');
      if (name === 'postgres') {
        expect(configuration.storage.schema).toBe('kubemend_shop');
        expect(configuration.auth.tokens.map((token) => token.name)).toEqual(['ops']);
        expect(configuration.ai.provider).toBe('anthropic');
      }
    }
  });

  it('grants the same rules as deploy/rbac/kubemend-rbac.yaml', () => {
    const { objects } = render(undefined, [`rbac.namespaces={${shop}}`]);
    const reference = parseAllDocuments(
      readFileSync(join(REPO_ROOT, 'deploy', 'rbac', 'kubemend-rbac.yaml'), 'utf8'),
    ).map((d) => d.toJS() as Manifest);
    const rulesOf = (name: string) =>
      reference.find((o) => o.kind === 'ClusterRole' && o.metadata.name === name).rules;
    expect(find(objects, 'ClusterRole')[0].rules).toEqual(rulesOf('kubemend-cluster-reader'));
    expect(find(objects, 'Role')[0].rules).toEqual(rulesOf('kubemend-namespaced'));
  });
});

describe('refusals', () => {
  it('refuses replicas > 1 on SQLite, naming both values and the way out', () => {
    const result = template(valuesFile('sqlite'), ['replicaCount=3']);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(
      'replicaCount is 3 but storage.driver is sqlite: SQLite is one file on a ReadWriteOnce volume, so it serves one replica only.',
    );
    expect(result.stderr).toContain('storage.driver: postgres');
  });

  it('refuses protected namespaces and its own namespace in rbac.namespaces', () => {
    for (const namespace of [
      'kube-system',
      'kube-public',
      'kube-node-lease',
      'kubemend-system',
      releaseNamespace,
    ]) {
      const result = template(undefined, [`rbac.namespaces={${shop},${namespace}}`]);
      expect(result.status, namespace).not.toBe(0);
      expect(result.stderr).toContain(`rbac.namespaces must not include "${namespace}"`);
    }
  });

  it('refuses PostgreSQL without a URL Secret, and values the schema does not know', () => {
    const postgres = template(undefined, ['storage.driver=postgres']);
    expect(postgres.stderr).toContain('storage.postgres.urlSecret.name is empty');
    const typo = template(undefined, ['replicas=3']);
    expect(typo.status).not.toBe(0);
    expect(typo.stderr).toMatch(/additional properties 'replicas' not allowed/);
    const invalid = template(undefined, ['rbac.namespaces={Shop_1}']);
    expect(invalid.stderr).toMatch(/rbac\/namespaces\/0.*does not match pattern/);
  });
});

describe('the ServiceAccount’s rights, from the real authorizer', () => {
  const answers: string[] = [];

  beforeAll(async () => {
    applyChartRbac(helm, RELEASE, releaseNamespace, [shop]); // for real, not a dry run
    await waitFor('the RoleBinding to reach the authorizer', async () =>
      canI('patch', 'deployments', shop) ? true : undefined,
    );
  });

  afterAll(() => {
    process.stdout.write(`kubectl auth can-i --as=${SA_USER}:\n${answers.map((a) => `  ${a}`).join('\n')}\n`);
  });

  function canI(verb: string, resource: string, namespace?: string): boolean {
    const args = ['--kubeconfig', ADMIN_KUBECONFIG, 'auth', 'can-i', verb, resource, `--as=${SA_USER}`];
    args.push(...(namespace ? ['-n', namespace] : ['--all-namespaces']));
    const result = spawnSync(KUBECTL, args, { encoding: 'utf8', timeout: 30_000 });
    const answer = result.stdout.trim();
    if (result.status !== 0 && answer !== 'no')
      throw new Error(`kubectl auth can-i failed: ${result.stderr}`);
    answers.push(`${verb} ${resource} ${namespace ? `-n ${namespace}` : '(all namespaces)'}: ${answer}`);
    return answer === 'yes';
  }

  async function review(attributes: k8s.V1ResourceAttributes): Promise<boolean> {
    const result = await authz.createSubjectAccessReview({
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: SA_USER,
          groups: [
            'system:serviceaccounts',
            `system:serviceaccounts:${releaseNamespace}`,
            'system:authenticated',
          ],
          resourceAttributes: attributes,
        },
      },
    });
    answers.push(
      `SubjectAccessReview ${attributes.verb} ${attributes.group ? `${attributes.group}/` : ''}${attributes.resource}` +
        `${attributes.subresource ? `/${attributes.subresource}` : ''}` +
        `${attributes.namespace ? ` -n ${attributes.namespace}` : ''}: ${result.status?.allowed ? 'allowed' : 'denied'}`,
    );
    return result.status?.allowed === true;
  }

  it('can patch Deployments in the opted-in namespace, in no other', async () => {
    expect(canI('patch', 'deployments.apps', shop)).toBe(true);
    expect(canI('patch', 'deployments.apps', other)).toBe(false);
    expect(canI('patch', 'deployments.apps', 'kube-system')).toBe(false);
    expect(canI('patch', 'deployments.apps', releaseNamespace)).toBe(false);
    expect(canI('patch', 'deployments.apps')).toBe(false);
    expect(await review({ verb: 'patch', group: 'apps', resource: 'deployments', namespace: shop })).toBe(
      true,
    );
    expect(await review({ verb: 'patch', group: 'apps', resource: 'deployments', namespace: other })).toBe(
      false,
    );
  });

  it('reads pods only where opted in; reads nodes cluster-wide', async () => {
    expect(canI('list', 'pods', shop)).toBe(true);
    expect(canI('list', 'pods', other)).toBe(false);
    expect(canI('list', 'nodes')).toBe(true);
    expect(await review({ verb: 'get', resource: 'pods', subresource: 'log', namespace: shop })).toBe(true);
    expect(await review({ verb: 'list', resource: 'pods', namespace: other })).toBe(false);
  });

  it('cannot read Secrets anywhere', async () => {
    expect(canI('get', 'secrets', shop)).toBe(false);
    expect(canI('list', 'secrets', shop)).toBe(false);
    expect(canI('watch', 'secrets')).toBe(false);
    expect(await review({ verb: 'get', resource: 'secrets', namespace: shop, name: 'db-password' })).toBe(
      false,
    );
    expect(await review({ verb: 'list', resource: 'secrets' })).toBe(false);
  });

  it('cannot touch RBAC', async () => {
    for (const resource of ['roles', 'rolebindings']) {
      for (const verb of ['create', 'patch', 'delete', 'escalate', 'bind']) {
        expect(canI(verb, `${resource}.rbac.authorization.k8s.io`, shop)).toBe(false);
      }
    }
    for (const resource of ['clusterroles', 'clusterrolebindings']) {
      expect(canI('create', `${resource}.rbac.authorization.k8s.io`)).toBe(false);
      expect(canI('update', `${resource}.rbac.authorization.k8s.io`)).toBe(false);
    }
    const rbacGroup = 'rbac.authorization.k8s.io';
    expect(
      await review({ verb: 'create', group: rbacGroup, resource: 'rolebindings', namespace: shop }),
    ).toBe(false);
    expect(await review({ verb: 'escalate', group: rbacGroup, resource: 'roles', namespace: shop })).toBe(
      false,
    );
    expect(
      await review({ verb: 'update', group: rbacGroup, resource: 'clusterroles', name: CLUSTER_ROLE }),
    ).toBe(false);
  });

  it('may delete pods (restart) but not Deployments, exec into pods or evict them', async () => {
    expect(canI('delete', 'pods', shop)).toBe(true);
    expect(canI('delete', 'deployments.apps', shop)).toBe(false);
    expect(canI('create', 'pods/exec', shop)).toBe(false);
    expect(canI('create', 'pods/eviction', shop)).toBe(false);
    expect(await review({ verb: 'create', resource: 'tokenreviews', group: 'authentication.k8s.io' })).toBe(
      true,
    );
  });
});
