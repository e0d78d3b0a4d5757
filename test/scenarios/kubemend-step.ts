// kubemend's step in a scenario: the real service, as `kubemend serve` and the CLI build it
// (createApplication), talking to the real control plane under kubemend's least-privilege
// ServiceAccount. The scenario's namespace is opted in first (a RoleBinding, as an operator would),
// unless expect.json says `optIn: false`; a scenario whose objects live in a protected namespace
// (kube-system) is not opted in there.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createApplication, type Application } from '../../src/app.js';
import { KubeClusterGateway, loadKubeConfig } from '../../src/cluster/kube-gateway.js';
import { loadConfiguration } from '../../src/config/configuration.js';
import { KUBEMEND_KUBECONFIG, SCRIPTS_DIR } from '../cluster/cluster-harness.js';
import type { RemediateFn } from './runner.js';

const applications = new Map<string, Promise<Application>>();

/** One application per runbooks directory: a scenario with `runbooks/` runs kubemend with them (runbooksDir). */
function app(runbooksDir?: string): Promise<Application> {
  const key = runbooksDir ?? '';
  let application = applications.get(key);
  if (application === undefined) {
    application = createApplication(loadConfiguration({ env: {}, flags: { logLevel: 'silent', storage: { driver: 'memory', retention: '30d' }, ...(runbooksDir ? { runbooksDir } : {}) } as never }), {
      cluster: new KubeClusterGateway(loadKubeConfig({ kubeconfig: KUBEMEND_KUBECONFIG })),
      actor: 'scenario-runner',
    });
    applications.set(key, application);
  }
  return application;
}

export const kubemendStep: RemediateFn | undefined = async (scenario, input) => {
  // The scenario's namespace is opted in unless the scenario is about a namespace kubemend may not read.
  execFileSync('bash', [`${SCRIPTS_DIR}/kubemend-identity.sh`, ...(scenario.expect.optIn ? [scenario.name] : [])], { stdio: 'ignore' });
  const runbooks = join(scenario.dir, 'runbooks');
  const service = (await app(existsSync(runbooks) ? runbooks : undefined)).service;
  return service.remediate({ ...input, mode: scenario.expect.mode ?? input.mode, ...(scenario.expect.policy ? { policy: scenario.expect.policy } : {}) }, { actor: 'scenario-runner' });
};
