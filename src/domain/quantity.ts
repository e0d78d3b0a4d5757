/**
 * Kubernetes resource quantities (`512Mi`, `1.5Gi`, `250m`, `2`, `1e3`) as numbers.
 * Memory in bytes, CPU in millicores.
 */

const BINARY: Readonly<Record<string, number>> = {
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
  Pi: 1024 ** 5,
  Ei: 1024 ** 6,
};
const DECIMAL: Readonly<Record<string, number>> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

const QUANTITY =
  /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([eE][+-]?\d+)|(n|u|m|k|M|G|T|P|E))?$/;

/** Parse a quantity to its base value (bytes, cores). Returns undefined when not a quantity. */
export function parseQuantity(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = QUANTITY.exec(value.trim());
  if (!match) return undefined;
  const base = Number(match[1]);
  if (match[2]) return base * (BINARY[match[2]] ?? 1);
  if (match[3]) return Number(`${match[1]}${match[3]}`);
  return base * (DECIMAL[match[4] ?? ''] ?? 1);
}

export function parseMemoryBytes(value: unknown): number | undefined {
  const parsed = parseQuantity(value);
  return parsed === undefined ? undefined : Math.round(parsed);
}

export function parseCpuMillicores(value: unknown): number | undefined {
  const parsed = parseQuantity(value);
  return parsed === undefined ? undefined : Math.round(parsed * 1000);
}

/** Format bytes as the binary quantity people write in manifests (`384Mi`, `2Gi`), rounded up. */
export function formatMemory(bytes: number): string {
  const mi = Math.ceil(bytes / BINARY.Mi!);
  if (mi >= 1024 && mi % 1024 === 0) return `${mi / 1024}Gi`;
  return `${mi}Mi`;
}

/** Format millicores as `250m` or whole cores (`2`). */
export function formatCpu(millicores: number): string {
  const rounded = Math.ceil(millicores);
  if (rounded % 1000 === 0) return String(rounded / 1000);
  return `${rounded}m`;
}

/** Round a memory size up to a tidy step: 64Mi below 1Gi, 256Mi above. */
export function roundMemoryUp(bytes: number): number {
  const step = bytes < 1024 ** 3 ? 64 * 1024 ** 2 : 256 * 1024 ** 2;
  return Math.ceil(bytes / step) * step;
}
