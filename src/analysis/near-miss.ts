/**
 * "Did you mean": a name that differs from a known one by a character or two (a typo), or by a
 * prefix such as the `v` of a tag. Used for ConfigMap and label names, for a command that is not
 * in the image (against the command a healthy revision ran), and for an image tag that does not
 * exist (against the tag a healthy revision or the other pods run).
 */

/** Levenshtein distance (small strings only). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const distance: number[] = Array.from({ length: rows * cols }, () => 0);
  for (let i = 0; i < rows; i++) distance[i * cols] = i;
  for (let j = 0; j < cols; j++) distance[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      distance[i * cols + j] = Math.min(
        distance[(i - 1) * cols + j]! + 1,
        distance[i * cols + j - 1]! + 1,
        distance[(i - 1) * cols + j - 1]! + cost,
      );
    }
  }
  return distance[rows * cols - 1]!;
}

/**
 * Typing distance: Levenshtein where swapping two neighbouring characters counts once (optimal
 * string alignment), so that `ngnix` is one typo away from `nginx`.
 */
export function typoDistance(a: string, b: string): number {
  const cols = b.length + 1;
  const d: number[] = Array.from({ length: (a.length + 1) * cols }, () => 0);
  for (let i = 0; i <= a.length; i++) d[i * cols] = i;
  for (let j = 0; j <= b.length; j++) d[j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(
        d[(i - 1) * cols + j]! + 1,
        d[i * cols + j - 1]! + 1,
        d[(i - 1) * cols + j - 1]! + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, d[(i - 2) * cols + j - 2]! + 1);
      d[i * cols + j] = best;
    }
  }
  return d[a.length * cols + b.length]!;
}

/** The closest candidate within a typo's distance (≤ 2, more for long names); ties: first given. */
export function closestName(wanted: string, candidates: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    if (name === wanted) continue;
    const distance = editDistance(wanted, name);
    if (distance <= Math.max(2, Math.floor(wanted.length / 5)) && (!best || distance < best.distance)) {
      best = { name, distance };
    }
  }
  return best?.name;
}

/** A command word close to a known one: a typo (≤ 2 edits, and fewer than a third of its letters). */
export function closestCommand(wanted: string, candidates: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of new Set(candidates)) {
    if (!name || name === wanted) continue;
    const distance = typoDistance(wanted, name);
    const limit = Math.min(2, Math.floor(Math.max(wanted.length, name.length) / 3));
    if (distance <= limit && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

export interface ImageRef {
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
}

/** `docker.io/library/redis:7.2` and `redis:7.2` name the same repository. */
export function parseImage(image: string): ImageRef {
  const [withoutDigest, digest] = image.split('@', 2) as [string, string | undefined];
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  const tag = colon > slash ? withoutDigest.slice(colon + 1) : undefined;
  let repository = colon > slash ? withoutDigest.slice(0, colon) : withoutDigest;
  repository = repository.replace(/^(?:docker\.io|index\.docker\.io|registry-1\.docker\.io)\//, '');
  if (!repository.includes('/')) repository = `library/${repository}`;
  return { repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

const skeleton = (tag: string): string => tag.replace(/\d+/g, '#');

/**
 * The known image the failing one most likely meant: same repository, and a tag one or two edits
 * away (not only in its version numbers) or differing by a `v` prefix. Undefined otherwise.
 */
export function closestImage(failing: string, known: readonly string[]): string | undefined {
  const wanted = parseImage(failing);
  if (!wanted.tag) return undefined;
  let best: { image: string; distance: number } | undefined;
  for (const image of new Set(known)) {
    if (image === failing) continue;
    const candidate = parseImage(image);
    if (candidate.repository !== wanted.repository || !candidate.tag || candidate.tag === wanted.tag)
      continue;
    const prefixed = `v${wanted.tag}` === candidate.tag || wanted.tag === `v${candidate.tag}`;
    // v2.0.1 next to v2.0.0 is a new version, not a typo: only the numbers differ.
    if (!prefixed && skeleton(wanted.tag) === skeleton(candidate.tag)) continue;
    const distance = prefixed ? 1 : typoDistance(wanted.tag, candidate.tag);
    if (distance <= 2 && (!best || distance < best.distance)) best = { image, distance };
  }
  return best?.image;
}
