import { describe, expect, it } from 'vitest';
import { ARGO, HELM_CHART, oomIncident, plan } from '../../test/support/managed.js';
import { managerOf, ownerWords } from './gitops-owner.js';

const none = { labels: {}, annotations: {} };

describe('who owns the desired state, from labels and annotations', () => {
  it.each([
    [
      'Argo CD tracking-id annotation',
      { ...none, annotations: { 'argocd.argoproj.io/tracking-id': 'shop:apps/Deployment:shop/api' } },
      'argocd',
      'Argo CD Application shop',
    ],
    [
      'Argo CD tracking-id of an Application in another namespace',
      { ...none, annotations: { 'argocd.argoproj.io/tracking-id': 'team-a_shop:apps/Deployment:shop/api' } },
      'argocd',
      'Argo CD Application team-a/shop',
    ],
    [
      'Argo CD label tracking (instance label with an Argo CD marker)',
      {
        labels: { 'app.kubernetes.io/instance': 'shop' },
        annotations: { 'argocd.argoproj.io/sync-options': 'Prune=false' },
      },
      'argocd',
      'Argo CD Application shop',
    ],
    [
      'Flux Kustomization',
      {
        labels: {
          'kustomize.toolkit.fluxcd.io/name': 'apps',
          'kustomize.toolkit.fluxcd.io/namespace': 'flux-system',
        },
        annotations: {},
      },
      'flux',
      'Flux Kustomization flux-system/apps',
    ],
    [
      'Flux HelmRelease (Helm annotations too: Flux comes first)',
      {
        labels: { 'helm.toolkit.fluxcd.io/name': 'api', 'helm.toolkit.fluxcd.io/namespace': 'shop' },
        annotations: { 'meta.helm.sh/release-name': 'api' },
      },
      'flux',
      'Flux HelmRelease shop/api',
    ],
    ['Helm release annotations', HELM_CHART, 'helm', 'Helm release shop/api'],
    [
      'Helm managed-by label alone',
      { labels: { 'app.kubernetes.io/managed-by': 'Helm' }, annotations: {} },
      'helm',
      'Helm release (name unknown)',
    ],
    [
      'Argo CD rendering a Helm chart (managed-by Helm, tracking-id): Argo CD comes first',
      { labels: HELM_CHART.labels, annotations: ARGO.annotations },
      'argocd',
      'Argo CD Application shop-prod',
    ],
  ])('%s', (_name, meta, manager, owner) => {
    const managed = managerOf(meta);
    expect(managed?.manager).toBe(manager);
    expect(ownerWords(managed!)).toBe(owner);
  });

  it('an instance label alone is not Argo CD (Helm charts and Kustomize set it too)', () => {
    expect(managerOf({ labels: { 'app.kubernetes.io/instance': 'shop' }, annotations: {} })).toBeUndefined();
    expect(managerOf(none)).toBeUndefined();
  });
});

describe('the planner and GitOps-managed targets', () => {
  it('an unmanaged Deployment: the fix runs, no Git action, no notice', () => {
    const answer = plan(oomIncident());
    expect(answer.remediation.actions.map((a) => [a.type, a.decision?.decision])).toEqual([
      ['patch', 'execute'],
    ]);
    expect(answer.notices).toEqual([]);
  });

  it('Argo CD, gitopsManaged: propose (default): awaits approval, names the Application, adds the Git change', () => {
    const answer = plan(oomIncident({ deployment: ARGO }));
    const [live, git] = answer.remediation.actions;
    expect(live?.decision).toEqual({
      decision: 'await-approval',
      reason: expect.stringMatching(
        /^Deployment\/api is managed by Argo CD Application shop-prod: its next sync reverts a live change, so it is never made unattended \(gitopsManaged: propose\); make the change in Git$/,
      ),
    });
    expect(git).toMatchObject({ type: 'manual', target: { kind: 'Deployment', name: 'api' } });
    expect(git?.type === 'manual' && git.params.instructions).toBe(
      [
        'Change Deployment shop/api in the manifests Argo CD Application shop-prod syncs from Git:',
        'spec.template.spec.containers[name=api].resources.limits.memory: "384Mi"',
        'As YAML in the manifest:',
        'spec:',
        '  template:',
        '    spec:',
        '      containers:',
        '        - name: api',
        '          resources:',
        '            limits:',
        '              memory: 384Mi',
      ].join('\n'),
    );
    expect(answer.notices).toEqual([
      expect.stringMatching(
        /^gitops: Deployment shop\/api is managed by Argo CD Application shop-prod \(annotation argocd\.argoproj\.io\/tracking-id\); its next sync reverts a live change, so action a1 is never executed unattended; the lasting change, .* is action a2\.$/,
      ),
    ]);
    expect(live?.verificationPlan?.revertWatch).toBeUndefined();
  });

  it('gitopsManaged: refuse denies the live change and keeps the Git change', () => {
    const answer = plan(oomIncident({ deployment: ARGO }), { gitopsManaged: 'refuse' });
    expect(answer.remediation.actions.map((a) => [a.type, a.decision?.decision])).toEqual([
      ['patch', 'denied'],
      ['manual', 'advice'],
    ]);
    expect(answer.remediation.actions[0]?.decision?.reason).toMatch(/gitopsManaged: refuse/);
  });

  it('gitopsManaged: live-patch executes, and verification watches for a revert by the owner', () => {
    const answer = plan(oomIncident({ deployment: ARGO }), { gitopsManaged: 'live-patch' });
    const live = answer.remediation.actions[0];
    expect(live?.decision?.decision).toBe('execute');
    expect(live?.verificationPlan?.revertWatch).toEqual({
      manager: 'argocd',
      owner: 'Argo CD Application shop-prod',
    });
    expect(answer.notices[0]).toMatch(/may patch it live, and verification checks it is not reverted/);
    // The OOM evidence alone asks for no stability window; Argo CD's self-heal needs one to be seen.
    expect(live?.verificationPlan?.stabilityMs).toBe(30_000);
    expect(live?.verificationPlan?.basis.at(-1)).toMatch(
      /Argo CD Application shop-prod must not revert the change for 30s \(the policy's verifyRevertWindow/,
    );
  });

  it("live-patch: the revert window is the policy's, within its ceiling; a plain Helm release adds none", () => {
    const argo = plan(oomIncident({ deployment: ARGO }), {
      gitopsManaged: 'live-patch',
      verifyRevertWindow: '10m',
      verifyMaxStability: '2m',
    });
    expect(argo.remediation.actions[0]?.verificationPlan?.stabilityMs).toBe(120_000);
    const helm = plan(oomIncident({ deployment: HELM_CHART }), { gitopsManaged: 'live-patch' });
    const live = helm.remediation.actions[0];
    expect(live?.verificationPlan?.stabilityMs).toBe(0);
    expect(live?.verificationPlan?.revertWatch?.manager).toBe('helm');
    expect(live?.verificationPlan?.basis.at(-1)).toMatch(
      /at the next helm upgrade, which no window waits for/,
    );
  });

  it('a Helm chart with the conventional layout: the values key and a helm upgrade', () => {
    const answer = plan(oomIncident({ deployment: HELM_CHART }));
    const git = answer.remediation.actions[1];
    expect(answer.remediation.actions[0]?.decision?.reason).toMatch(
      /managed by Helm release shop\/api: the next helm upgrade reverts a live change.*make the change in the release's values/,
    );
    expect(git?.type === 'manual' && git.params.instructions).toBe(
      [
        'Set resources.limits.memory in the values of Helm release shop/api (chart api-1.8.0), in the values file kept in Git:',
        'resources:',
        '  limits:',
        '    memory: 384Mi',
        'or: helm upgrade api <chart> -n shop --reuse-values --set resources.limits.memory=384Mi',
      ].join('\n'),
    );
  });

  it('a Helm chart with two containers: no values key can be inferred, so the manifest field as YAML', () => {
    const answer = plan(oomIncident({ deployment: HELM_CHART, sidecar: true }));
    const git = answer.remediation.actions[1];
    const instructions = git?.type === 'manual' ? git.params.instructions : '';
    expect(instructions).toMatch(
      /^Change Deployment shop\/api in the values of Helm release shop\/api: Chart api-1\.8\.0 renders it; no conventional values key is evident/,
    );
    expect(instructions).toContain(
      'spec.template.spec.containers[name=api].resources.limits.memory: "384Mi"',
    );
    expect(instructions).toContain(
      '        - name: api\n          resources:\n            limits:\n              memory: 384Mi',
    );
  });

  it('a Flux HelmRelease: the values key under spec.values', () => {
    const answer = plan(
      oomIncident({
        deployment: {
          labels: {
            'helm.toolkit.fluxcd.io/name': 'api',
            'helm.toolkit.fluxcd.io/namespace': 'shop',
            'helm.sh/chart': 'api-1.8.0',
          },
        },
      }),
    );
    const git = answer.remediation.actions[1];
    expect(git?.type === 'manual' && git.params.instructions).toMatch(
      /^Set resources\.limits\.memory under spec\.values of Flux HelmRelease shop\/api in Git \(chart api-1\.8\.0\):\nresources:\n {2}limits:\n {4}memory: 384Mi\nFlux upgrades the release/,
    );
  });

  it('offline, with only the pod: Helm labels on the pod template tell', () => {
    const input = oomIncident();
    const pod = input.context!.podSpec as { metadata: { labels: Record<string, string> } };
    pod.metadata.labels = { ...pod.metadata.labels, ...HELM_CHART.labels };
    input.context!.resources = [];
    const answer = plan(input);
    expect(answer.notices[0]).toMatch(
      /managed by Helm release shop\/api \(label app\.kubernetes\.io\/managed-by: Helm\)/,
    );
  });
});
