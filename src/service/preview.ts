/**
 * Previews for a person deciding: for each action of a session, the target before and after.
 *
 * - An action not yet run: the object as it is now and as the API server's server-side dry-run
 *   says it would be (nothing persisted, nothing audited: a preview is a read). Cached per
 *   (session, plan hash, action, resourceVersion): the same page opened again costs one GET, and
 *   any change to the object — a new resourceVersion — gives a fresh dry-run.
 * - An action that ran: the snapshot taken before it (the result's `before`) and the object now.
 * - Offline, or a manual action: no preview, and why.
 */
import type { KubeObject } from '../cluster/gateway.js';
import { KubemendError } from '../domain/index.js';
import { describe } from '../execution/describe.js';
import {
  dryRunPreview,
  type DryRunPreview,
  type ObjectView,
  objectView,
  readTarget,
} from '../execution/preview.js';
import type { ServiceContext } from './context.js';

export type { ObjectView } from '../execution/preview.js';

export type ActionPreview =
  | (DryRunPreview & { readonly cached?: boolean })
  | {
      readonly kind: 'since-snapshot';
      /** The snapshot taken before the action changed anything. */
      readonly before: ObjectView;
      /** The object now (absent when it is gone, or no cluster is connected). */
      readonly after?: ObjectView;
      readonly live: boolean;
    }
  | { readonly kind: 'unavailable'; readonly reason: string };

const CACHE_SIZE = 256;

/** Bounded, least recently used first out. */
export class PreviewCache {
  private readonly entries = new Map<string, DryRunPreview>();

  get(key: string): DryRunPreview | undefined {
    const found = this.entries.get(key);
    if (found) {
      this.entries.delete(key);
      this.entries.set(key, found);
    }
    return found;
  }

  set(key: string, preview: DryRunPreview): void {
    this.entries.set(key, preview);
    while (this.entries.size > CACHE_SIZE) this.entries.delete(this.entries.keys().next().value as string);
  }
}

export async function previewAction(
  ctx: ServiceContext,
  cache: PreviewCache,
  sessionId: string,
  actionId: string,
): Promise<ActionPreview> {
  const session = await ctx.sessions.get(sessionId);
  if (!session) throw new KubemendError('session-not-found', `session ${sessionId} not found`);
  const action = session.output?.remediation.actions.find((a) => a.id === actionId);
  if (!action) throw new KubemendError('not-found', `session ${sessionId} has no action ${actionId}`);
  const result = session.results.find((r) => r.actionId === actionId);
  const cluster = ctx.cluster();
  if (result?.before) {
    const before = objectView(result.before as KubeObject);
    if (!cluster) return { kind: 'since-snapshot', before, live: false };
    const now = await readTarget(cluster, action).catch(() => undefined);
    return { kind: 'since-snapshot', before, ...(now ? { after: objectView(now) } : {}), live: true };
  }
  if (action.type === 'manual')
    return { kind: 'unavailable', reason: 'a manual action is done by a person; kubemend applies nothing' };
  if (!cluster)
    return { kind: 'unavailable', reason: 'no cluster is connected (offline): no preview is available' };
  let current: KubeObject | undefined;
  try {
    current = await readTarget(cluster, action);
  } catch (error) {
    return { kind: 'unavailable', reason: `the target could not be read: ${describe(error)}` };
  }
  const key = [
    sessionId,
    session.planHash ?? '',
    actionId,
    current?.metadata?.resourceVersion ?? 'absent',
  ].join('\u0000');
  const hit = cache.get(key);
  if (hit) return { ...hit, cached: true };
  let preview: DryRunPreview;
  try {
    preview = await dryRunPreview(cluster, action, current);
  } catch (error) {
    return { kind: 'unavailable', reason: `the dry-run could not be run: ${describe(error)}` };
  }
  cache.set(key, preview);
  return preview;
}
