// The world file: the physics of the test world (see docs/simulation.md). Parsed with zod;
// unknown keys are errors that name the key, so a typo in a scenario's world.yaml fails loudly.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { z } from 'zod';

const quantity = z.union([z.string().min(1), z.number()]).transform((value) => String(value));
const nominalSeconds = z.number().nonnegative();

export const NodeConditionTypes = [
  'Ready',
  'MemoryPressure',
  'DiskPressure',
  'PIDPressure',
  'NetworkUnavailable',
] as const;

export const TaintSchema = z.strictObject({
  key: z.string().min(1),
  value: z.string().optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
});

export const WorldNodeSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'a DNS-1123 name'),
  capacity: z
    .strictObject({
      cpu: quantity.default('4'),
      memory: quantity.default('8Gi'),
      pods: quantity.default('110'),
      'ephemeral-storage': quantity.default('100Gi'),
    })
    .default({ cpu: '4', memory: '8Gi', pods: '110', 'ephemeral-storage': '100Gi' }),
  /** Defaults to capacity. */
  allocatable: z.record(z.string(), quantity).optional(),
  labels: z.record(z.string(), z.string()).default({}),
  taints: z.array(TaintSchema).default([]),
  /** e.g. { Ready: "False" } or { DiskPressure: "True" }; unlisted conditions are healthy. */
  conditions: z.partialRecord(z.enum(NodeConditionTypes), z.enum(['True', 'False', 'Unknown'])).default({}),
  unschedulable: z.boolean().default(false),
  /** Images present on the node when the world is applied (no Pulling event for them). */
  preloadedImages: z.array(z.string()).default([]),
});

export const ImageSchema = z.strictObject({
  /** Working set once started; OOMKilled (exit 137) when the memory limit is below it. */
  memory: quantity.default('64Mi'),
  /** CPU demand; throttled (metrics) when the CPU limit is below it. */
  cpu: quantity.default('50m'),
  /** Ports the process listens on once started; probes on other ports: connection refused. */
  listens: z.array(z.number().int().min(1).max(65535)).default([]),
  /** HTTP paths and their status codes; other paths answer 404. */
  paths: z.record(z.string(), z.number().int().min(100).max(599)).default({}),
  /** Missing from the container's environment → crashLog, then exit with crashExitCode. */
  requiresEnv: z.array(z.string()).default([]),
  /** The image's ENTRYPOINT; a container `command` whose binary is neither this nor in `binaries` → StartError. */
  entrypoint: z.array(z.string()).default(['/app/run']),
  /** Other executables in the image's $PATH that a `command` may name. */
  binaries: z.array(z.string()).default(['sh', '/bin/sh']),
  /** Nominal seconds from Started until the process listens (and answers probes). */
  startSeconds: nominalSeconds.default(1),
  /** Lines the process writes when it starts. */
  logs: z.array(z.string()).default([]),
  /** Lines written before a crash (requiresEnv or a non-zero exitCode). Default for requiresEnv: a FATAL line. */
  crashLog: z.array(z.string()).optional(),
  crashExitCode: z.number().int().min(1).max(255).default(1),
  /** When set, the process exits by itself with this code after runSeconds (batch jobs, crashers). */
  exitCode: z.number().int().min(0).max(255).optional(),
  runSeconds: nominalSeconds.default(1),
  /** Nominal seconds from Started to the OOM kill when the limit is below `memory`. */
  oomAfterSeconds: nominalSeconds.default(1),
  /** Exit code when stopped with SIGTERM (liveness kill, deletion): 143 unless the app traps it. */
  termExitCode: z.number().int().min(0).max(255).default(143),
  /** User the image runs as: root, 0, a numeric uid or a name (runAsNonRoot checks). */
  user: z.string().default('0'),
  /** Response time of HTTP endpoints without throttling; scaled up by CPU throttling (probe timeouts). */
  latencyMs: z.number().nonnegative().default(5),
  /** Image size in bytes (Pulled message). */
  size: z.number().int().positive().default(52_428_800),
  /** Nominal pull time. */
  pullSeconds: nominalSeconds.default(1),
});

export const TimingSchema = z.strictObject({
  /** Real seconds per nominal (kubelet) second: 0.1 makes a 10 s back-off take 1 s. */
  scale: z.number().positive().max(10).default(1),
  /** Nominal seconds between the kubelet's retries of a pod that cannot start (config errors, mounts). */
  syncRetrySeconds: nominalSeconds.default(10),
  /** Crash-loop back-off: initial and cap, nominal seconds (kubelet: 10 s doubling to 5m0s). */
  backoffInitialSeconds: nominalSeconds.default(10),
  backoffMaxSeconds: nominalSeconds.default(300),
  /** Image pull back-off: initial and cap (kubelet: 10 s doubling to 5m0s). */
  imageBackoffInitialSeconds: nominalSeconds.default(10),
  imageBackoffMaxSeconds: nominalSeconds.default(300),
  /** After this long without mounting, FailedMount "Unable to attach or mount volumes". */
  mountTimeoutSeconds: nominalSeconds.default(120),
});

export const WorldSchema = z.strictObject({
  nodes: z.array(WorldNodeSchema).default([]),
  storageClasses: z.array(z.string().min(1)).default([]),
  images: z.record(z.string(), ImageSchema).default({}),
  /** Image → name of the imagePullSecret without which the pull is refused (401). */
  privateImages: z.record(z.string(), z.string()).default({}),
  timing: TimingSchema.default(TimingSchema.parse({})),
  /** `current` (v1.36) or `legacy` message variants, so rules are tested against both. */
  wording: z.enum(['current', 'legacy']).default('current'),
  metrics: z
    .strictObject({
      /** Window reported by metrics.k8s.io, nominal seconds. */
      windowSeconds: nominalSeconds.default(15),
    })
    .default({ windowSeconds: 15 }),
});

export type World = z.infer<typeof WorldSchema>;
export type WorldNode = z.infer<typeof WorldNodeSchema>;
export type Image = z.infer<typeof ImageSchema>;
export type Timing = z.infer<typeof TimingSchema>;
export type Taint = z.infer<typeof TaintSchema>;

export class WorldError extends Error {
  override readonly name = 'WorldError';
}

/** Validates a world document (already parsed from YAML). Throws WorldError naming each bad field. */
export function parseWorld(document: unknown, source = 'world'): World {
  const result = WorldSchema.safeParse(document ?? {});
  if (!result.success) {
    const issues = result.error.issues.map((issue) => {
      const path = issue.path.map(String).join('.') || '(root)';
      return `${path}: ${issue.message}`;
    });
    throw new WorldError(`${source} is not a valid world: ${issues.join('; ')}`);
  }
  const names = new Set<string>();
  for (const node of result.data.nodes) {
    if (names.has(node.name)) throw new WorldError(`${source}: node ${node.name} is listed twice`);
    names.add(node.name);
  }
  return result.data;
}

export function parseWorldYaml(text: string, source = 'world.yaml'): World {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new WorldError(
      `${source} is not valid YAML: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return parseWorld(document, source);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Merges a scenario's world document over a base document (both raw YAML documents, before
 * defaults): maps merge recursively, `nodes` merge by name (a node with `remove: true` is
 * dropped), `storageClasses` are united, every other list is replaced.
 */
export function mergeWorldDocuments(base: unknown, overlay: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = isPlainObject(base) ? structuredClone(base) : {};
  if (!isPlainObject(overlay)) return out;
  for (const [key, value] of Object.entries(overlay)) {
    const current = out[key];
    if (key === 'nodes' && Array.isArray(value)) {
      const merged: Record<string, unknown>[] = Array.isArray(current)
        ? structuredClone(current as Record<string, unknown>[])
        : [];
      for (const node of value as unknown[]) {
        if (!isPlainObject(node)) continue;
        const index = merged.findIndex((existing) => existing['name'] === node['name']);
        if (node['remove'] === true) {
          if (index >= 0) merged.splice(index, 1);
        } else if (index >= 0) {
          merged[index] = mergeWorldDocuments(merged[index], node);
        } else {
          merged.push(structuredClone(node));
        }
      }
      out[key] = merged;
    } else if (key === 'storageClasses' && Array.isArray(value)) {
      out[key] = [...new Set([...(Array.isArray(current) ? (current as unknown[]) : []), ...value])];
    } else if (isPlainObject(value) && isPlainObject(current)) {
      out[key] = mergeWorldDocuments(current, value);
    } else {
      out[key] = structuredClone(value);
    }
  }
  return out;
}

export const DEFAULT_WORLD_PATH = fileURLToPath(new URL('./default-world.yaml', import.meta.url));

export function readDefaultWorldDocument(): Record<string, unknown> {
  const document = parseYaml(readFileSync(DEFAULT_WORLD_PATH, 'utf8')) as unknown;
  if (!isPlainObject(document)) throw new WorldError(`${DEFAULT_WORLD_PATH} is not a YAML mapping`);
  return document;
}

/** The default world with a scenario's world.yaml text (optional) merged over it, validated. */
export function worldWithOverlay(
  overlayYaml?: string,
  source = 'world.yaml',
): { world: World; yaml: string } {
  const base = readDefaultWorldDocument();
  let overlay: unknown = {};
  if (overlayYaml !== undefined) {
    try {
      overlay = parseYaml(overlayYaml) ?? {};
    } catch (error) {
      throw new WorldError(
        `${source} is not valid YAML: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  const merged = mergeWorldDocuments(base, overlay);
  const world = parseWorld(merged, source);
  return { world, yaml: stringifyYaml(merged) };
}

/** Converts nominal (kubelet) seconds to real milliseconds under the world's time scale. */
export function realMs(timing: Pick<Timing, 'scale'>, nominal: number): number {
  return Math.round(nominal * 1000 * timing.scale);
}
