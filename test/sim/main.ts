// Entry point of the simulated kubelet: `node --import tsx test/sim/main.ts` (started by
// scripts/cluster/up.sh; PID in .state/cluster/pids/kubemend-sim.pid, log in logs/kubemend-sim.log).
// Environment: KM_STATE (default .state/cluster), KM_SIM_KUBELET_PORT (first kubelet port,
// default 10360), KM_SIM_METRICS_PORT (metrics.k8s.io, default 10350).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { describeError } from './events.js';
import { Simulator } from './simulator.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const state = process.env['KM_STATE'] ?? join(repoRoot, '.state', 'cluster');
const kubeconfigPath = join(state, 'admin.kubeconfig');
const log = (message: string): void => {
  process.stdout.write(`${new Date().toISOString()} ${message}\n`);
};

function port(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < 1 || value > 65535)
    throw new Error(`${name} must be a TCP port, got ${process.env[name]}`);
  return value;
}

async function main(): Promise<void> {
  if (!existsSync(kubeconfigPath))
    throw new Error(
      `no admin kubeconfig at ${kubeconfigPath}: start the control plane with scripts/cluster/up.sh`,
    );
  const kubeconfig = new k8s.KubeConfig();
  kubeconfig.loadFromFile(kubeconfigPath);
  const simulator = new Simulator({
    kubeconfig,
    pkiDir: join(state, 'pki'),
    kubeletPortBase: port('KM_SIM_KUBELET_PORT', 10360),
    metricsPort: port('KM_SIM_METRICS_PORT', 10350),
    log,
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    void simulator.stop().finally(() => process.exit(0));
    setTimeout(() => process.exit(0), 5000).unref();
  };
  // One pod's unexpected error must not take every simulated node down with it.
  process.on('unhandledRejection', (error) => log(`unhandled: ${describeError(error)}`));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  await simulator.start();
}

main().catch((error: unknown) => {
  log(`fatal: ${describeError(error)}`);
  process.exit(1);
});
