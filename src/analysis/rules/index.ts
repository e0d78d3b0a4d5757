import type { Rule } from './rule.js';
import { configMissingRule } from './config-missing.js';
import { cpuThrottlingRule } from './cpu-throttling.js';
import { crashLoopRule } from './crash-loop.js';
import { dependencyFailureRule } from './dependency-failure.js';
import { healthyRule } from './healthy.js';
import { hpaLimitedRule } from './hpa-limited.js';
import { imagePullAuthRule, imagePullNotFoundRule } from './image-pull.js';
import { invalidCommandRule } from './invalid-command.js';
import { jobFailedRule } from './job-failed.js';
import { nodeNotReadyRule, nodePressureEvictionRule } from './nodes.js';
import { oomKilledRule } from './oom-killed.js';
import { permissionDeniedRule } from './permission-denied.js';
import { livenessProbeRule, readinessProbeRule } from './probes.js';
import { quotaExceededRule } from './quota-exceeded.js';
import { rolloutStuckRule } from './rollout-stuck.js';
import { insufficientResourcesRule, schedulingConstraintsRule } from './scheduling.js';
import { securityContextRule } from './security-context.js';
import { serviceNoEndpointsRule } from './service-no-endpoints.js';
import { volumeMountFailureRule, volumePendingRule } from './volumes.js';

/**
 * Failure rules in precedence order: when two are equally confident, the more specific cause (the
 * one a person would fix) comes first; symptoms such as a stuck rollout come last.
 */
export const FAILURE_RULES: readonly Rule[] = [
  oomKilledRule,
  configMissingRule,
  securityContextRule,
  invalidCommandRule,
  imagePullAuthRule,
  imagePullNotFoundRule,
  permissionDeniedRule,
  quotaExceededRule,
  volumePendingRule,
  volumeMountFailureRule,
  nodePressureEvictionRule,
  nodeNotReadyRule,
  schedulingConstraintsRule,
  insufficientResourcesRule,
  cpuThrottlingRule,
  livenessProbeRule,
  dependencyFailureRule,
  readinessProbeRule,
  hpaLimitedRule,
  serviceNoEndpointsRule,
  jobFailedRule,
  crashLoopRule,
  rolloutStuckRule,
];

export const HEALTHY_RULE: Rule = healthyRule;
export type { Rule } from './rule.js';
