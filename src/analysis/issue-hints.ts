/**
 * What the issue text says. A hint, never proof: people name the wrong category often ("OOM" for a
 * liveness kill). Used to explain disagreements and to phrase honest `unknown` answers.
 */
import type { Category } from '../domain/index.js';

const HINTS: ReadonlyArray<readonly [RegExp, Category]> = [
  [/\boom\b|out of memory|oomkill|memory limit/i, 'oom-killed'],
  [/crash ?loop|crashloopbackoff|keeps? (?:crashing|restarting)|restart(?:ing)? loop/i, 'crash-loop'],
  [/configmap|secret .*missing|missing (?:config|secret)/i, 'config-missing'],
  [/image ?pull|errimagepull|pull(?:ing)? (?:the )?image|manifest unknown/i, 'image-pull-not-found'],
  [/liveness/i, 'liveness-probe-failure'],
  [/readiness|not ready/i, 'readiness-probe-failure'],
  [/pending|unschedulable|can(?:'|no)t be scheduled|insufficient/i, 'insufficient-resources'],
  [/taint|toleration|node ?selector|affinity/i, 'scheduling-constraints'],
  [/\bpvc\b|persistentvolumeclaim|storage ?class|volume/i, 'volume-pending'],
  [/node .*not ?ready|notready/i, 'node-not-ready'],
  [/evict/i, 'node-pressure-eviction'],
  [/quota/i, 'quota-exceeded'],
  [/rollout|progress deadline|deploy(?:ment)? stuck/i, 'rollout-stuck'],
  [/endpoints?|503|service unavailable/i, 'service-no-endpoints'],
  [/\bjob\b|cronjob|backofflimit/i, 'job-failed'],
  [/\bhpa\b|autoscal|max ?replicas/i, 'hpa-limited'],
  [/database|redis|kafka|connection refused|timeout|upstream|dependency/i, 'dependency-failure'],
  [/forbidden|rbac|permission denied|not allowed/i, 'permission-denied'],
  [/securitycontext|runasnonroot|pod ?security|privileged/i, 'security-context'],
  [/throttl|cpu/i, 'cpu-throttling'],
];

export function issueHints(issue: string): Category[] {
  const out: Category[] = [];
  for (const [pattern, category] of HINTS)
    if (pattern.test(issue) && !out.includes(category)) out.push(category);
  return out;
}
