/** Safe readers for untrusted JSON (manifests, events). Never throw; return undefined on mismatch. */
/** A JSON object of unknown shape (a manifest, an event). */
export type JsonObject = Record<string, unknown>;

export function asObject(value: unknown): JsonObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as JsonObject)
    : undefined;
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function asNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function asBoolean(value: unknown): boolean | undefined {
  return typeof value === 'boolean' ? value : undefined;
}

export function asStringMap(value: unknown): Record<string, string> {
  const object = asObject(value);
  const out: Record<string, string> = {};
  if (!object) return out;
  for (const [key, entry] of Object.entries(object)) if (typeof entry === 'string') out[key] = entry;
  return out;
}

/** Read a nested field: `at(pod, 'status', 'containerStatuses')`. */
export function at(value: unknown, ...path: Array<string | number>): unknown {
  let current: unknown = value;
  for (const key of path) {
    if (typeof key === 'number') {
      if (!Array.isArray(current)) return undefined;
      current = current[key];
    } else {
      const object = asObject(current);
      if (!object) return undefined;
      current = object[key];
    }
  }
  return current;
}
