/**
 * The builder table: one builder per Category, in modules that mirror `analysis/rules/`. A builder
 * tries its strategies in order (the first that applies proposes the drafts) and otherwise gives a
 * person precise advice; see `shared.ts`.
 */
import type { Category } from '../../domain/index.js';
import { configMissing } from './config-missing.js';
import { cpuThrottling } from './cpu-throttling.js';
import { crashLoop } from './crash-loop.js';
import { dependencyFailure } from './dependency-failure.js';
import { healthy } from './healthy.js';
import { hpaLimited } from './hpa-limited.js';
import { imagePullAuth, imagePullNotFound } from './image-pull.js';
import { invalidCommand } from './invalid-command.js';
import { jobFailed } from './job-failed.js';
import { nodeNotReady, nodePressure } from './nodes.js';
import { oomKilled } from './oom-killed.js';
import { permissionDenied } from './permission-denied.js';
import { probeFix } from './probes.js';
import { quotaExceeded } from './quota-exceeded.js';
import { rolloutStuck } from './rollout-stuck.js';
import { insufficientResources, schedulingConstraints } from './scheduling.js';
import { securityContext } from './security-context.js';
import { serviceNoEndpoints } from './service-no-endpoints.js';
import type { Builder } from './shared.js';
import { unknown } from './unknown.js';
import { volumeMountFailure, volumePending } from './volumes.js';

export const BUILDERS: Readonly<Record<Category, Builder>> = {
  'oom-killed': oomKilled,
  'crash-loop': crashLoop,
  'config-missing': configMissing,
  'image-pull-not-found': imagePullNotFound,
  'image-pull-auth': imagePullAuth,
  'invalid-command': invalidCommand,
  'liveness-probe-failure': probeFix,
  'readiness-probe-failure': probeFix,
  'insufficient-resources': insufficientResources,
  'scheduling-constraints': schedulingConstraints,
  'volume-pending': volumePending,
  'volume-mount-failure': volumeMountFailure,
  'node-not-ready': nodeNotReady,
  'node-pressure-eviction': nodePressure,
  'quota-exceeded': quotaExceeded,
  'rollout-stuck': rolloutStuck,
  'service-no-endpoints': serviceNoEndpoints,
  'job-failed': jobFailed,
  'hpa-limited': hpaLimited,
  'dependency-failure': dependencyFailure,
  'permission-denied': permissionDenied,
  'security-context': securityContext,
  'cpu-throttling': cpuThrottling,
  healthy,
  unknown,
};

export type { BuildInput, Builder } from './shared.js';
