/**
 * Two sections of the one Configuration: `clusters` (several kubeconfig contexts, each with its own
 * policies) and `watch` (the event-driven trigger of `kubemend watch` and `serve`). Both are
 * validated with the rest of the configuration; unknown keys are named.
 */
import { z } from 'zod';
import { MODES } from '../domain/index.js';
import { PolicySchema } from '../planning/policy.js';

const DURATION = /^\d+(ms|s|m|h)$/;
const duration = (example: string) =>
  z.string().regex(DURATION, `a duration such as ${example} (ms, s, m or h)`);

/** How clusters are named in configuration, requests, sessions, audit records and metrics. */
export const CLUSTER_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

const namespaceName = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a namespace name (lower-case letters, digits and dashes)')
  .max(63);

export const ClusterEntrySchema = z
  .strictObject({
    /** How requests (`cluster`), sessions, audit records, metrics and notifications name it. */
    name: z
      .string()
      .regex(CLUSTER_NAME, 'letters, digits, dashes, dots and underscores, at most 63, e.g. prod-eu'),
    /** The kubeconfig context; default the kubeconfig's current context. */
    context: z.string().min(1).optional(),
    /** The kubeconfig file; default `cluster.kubeconfig`, else the default chain (KUBECONFIG, ~/.kube/config). */
    kubeconfig: z.string().min(1).optional(),
    /** A policy file for this cluster; default the top-level `policyFile` (or the embedded policies). */
    policyFile: z.string().min(1).optional(),
    /** Named policies for this cluster, inline (instead of a policy file). */
    policies: z.record(z.string().min(1), PolicySchema).optional(),
    /** The policy used when a request names none (default `default`, else the first). */
    defaultPolicy: z.string().min(1).optional(),
    /** The cluster a request without `cluster` goes to (default: the entry of the current context). */
    default: z.boolean().optional(),
  })
  .refine((entry) => !(entry.policyFile !== undefined && entry.policies !== undefined), {
    message: 'give either policyFile or policies, not both',
    path: ['policies'],
  })
  .refine((entry) => entry.defaultPolicy === undefined || entry.policies !== undefined, {
    message: 'defaultPolicy names one of the inline policies (set default: in a policy file instead)',
    path: ['defaultPolicy'],
  });
export type ClusterEntry = z.infer<typeof ClusterEntrySchema>;

export const ClustersSchema = z
  .array(ClusterEntrySchema)
  .min(1)
  .max(50)
  .superRefine((entries, context) => {
    const seen = new Set<string>();
    entries.forEach((entry, index) => {
      if (seen.has(entry.name))
        context.addIssue({
          code: 'custom',
          path: [index, 'name'],
          message: `"${entry.name}" names two clusters`,
        });
      seen.add(entry.name);
    });
    if (entries.filter((entry) => entry.default === true).length > 1)
      context.addIssue({ code: 'custom', path: [], message: 'at most one cluster may be default: true' });
  });

export const WATCH_DEFAULTS = {
  enabled: false,
  namespaces: [] as string[],
  debounce: '1s',
  cooldown: '5m',
  mode: 'manual' as const,
};

export const WatchSchema = z
  .strictObject({
    /** `serve` runs the watcher too (`kubemend watch` always does). */
    enabled: z.boolean().default(WATCH_DEFAULTS.enabled),
    /** The opted-in namespaces: only these are watched. */
    namespaces: z.array(namespaceName).max(100).default(WATCH_DEFAULTS.namespaces),
    /** The clusters to watch, by name (default: the default cluster). */
    clusters: z.array(z.string().regex(CLUSTER_NAME)).min(1).max(50).optional(),
    /** Signals of one workload within this window after the first make one incident. */
    debounce: duration('1s').default(WATCH_DEFAULTS.debounce),
    /** After a workload's incident closes, no new one for it before this has passed. */
    cooldown: duration('5m').default(WATCH_DEFAULTS.cooldown),
    /** The mode of the sessions the watcher opens (default manual: nothing executes unattended). */
    mode: z.enum(MODES).default(WATCH_DEFAULTS.mode),
    /** The policy of those sessions (default: the cluster's default policy). */
    policy: z.string().min(1).max(128).optional(),
  })
  .refine((watch) => !watch.enabled || watch.namespaces.length > 0, {
    message: 'name at least one namespace to watch (watch.namespaces) when watch.enabled is true',
    path: ['namespaces'],
  });
export type WatchConfiguration = z.infer<typeof WatchSchema>;
