/**
 * `npm run bench:live` (needs `npm run cluster:up`): live-context gathering against the real
 * control plane under kubemend's least-privilege identity — API calls per analysis and gathering
 * time p50/p99 — for a crash-looping Deployment and a healthy one, plus whole-analysis time.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeClusterGateway, loadKubeConfig } from '../src/cluster/kube-gateway.js';
import { gatherLiveContext } from '../src/context/live.js';
import { loadConfiguration } from '../src/config/configuration.js';
import { loadPolicies } from '../src/config/policies.js';
import { RemediationService } from '../src/service/remediation-service.js';

const state = join(process.cwd(), '.state', 'cluster');
const kubectl = (...args: string[]) =>
  execFileSync('.k8s/bin/kubectl', ['--kubeconfig', join(state, 'admin.kubeconfig'), ...args], {
    encoding: 'utf8',
  });
const namespace = `bench-live-${Date.now().toString(36)}`;
execFileSync('bash', ['scripts/cluster/kubemend-identity.sh', namespace], { stdio: 'ignore' });
const deployment = (name: string, image: string, memory: string) =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'main', image, resources: { limits: { memory } } }] },
      },
    },
  });
execFileSync('.k8s/bin/kubectl', ['--kubeconfig', join(state, 'admin.kubeconfig'), 'apply', '-f', '-'], {
  input: deployment('crashing', 'ghcr.io/acme/api:v1.4.0', '128Mi'),
});
execFileSync('.k8s/bin/kubectl', ['--kubeconfig', join(state, 'admin.kubeconfig'), 'apply', '-f', '-'], {
  input: deployment('healthy', 'ghcr.io/acme/web:v2.0.0', '256Mi'),
});
await sleep(8_000);

const gateway = new KubeClusterGateway(loadKubeConfig({ kubeconfig: join(state, 'kubemend.kubeconfig') }));
const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)] ??
  0;
const service = new RemediationService({
  configuration: loadConfiguration({ env: {} }),
  policies: loadPolicies(undefined),
  cluster: gateway,
});
const rows = [];
for (const name of ['crashing', 'healthy']) {
  const durations: number[] = [];
  const calls: number[] = [];
  const whole: number[] = [];
  for (let i = 0; i < 30; i++) {
    const input = { issue: `${name} is broken`, target: { kind: 'Deployment', namespace, name } };
    const live = await gatherLiveContext(gateway, input, { timeoutMs: 4_000, maxApiCalls: 60 });
    durations.push(live.report.durationMs);
    calls.push(live.report.apiCalls);
    const started = performance.now();
    await service.remediate(input);
    whole.push(performance.now() - started);
  }
  const row = {
    workload: name,
    apiCallsP50: percentile(calls, 50),
    apiCallsMax: Math.max(...calls),
    gatherP50Ms: percentile(durations, 50),
    gatherP99Ms: percentile(durations, 99),
    analysisP50Ms: percentile(whole, 50),
    analysisP99Ms: percentile(whole, 99),
  };
  rows.push(row);
  console.log(
    `${name}: ${row.apiCallsP50} API calls (max ${row.apiCallsMax}); gathering p50 ${row.gatherP50Ms} ms, p99 ${row.gatherP99Ms} ms; whole analysis p50 ${row.analysisP50Ms.toFixed(0)} ms, p99 ${row.analysisP99Ms.toFixed(0)} ms`,
  );
}
kubectl('delete', 'namespace', namespace, '--wait=false');
mkdirSync('bench/results', { recursive: true });
writeFileSync(
  'bench/results/live-latest.json',
  `${JSON.stringify({ date: new Date().toISOString(), rows }, null, 2)}\n`,
);
