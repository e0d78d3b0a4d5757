/**
 * Per-target mutual exclusion within one process: two remediations of this process never change
 * the same object at once. Across replicas there is no lock: every apply carries the snapshot's
 * `resourceVersion`, so the second writer gets a conflict and re-plans (ADR 0012).
 */
export class TargetLocks {
  private readonly held = new Map<string, string>();

  /** Takes the lock for `target` on behalf of `owner`; false if someone else holds it. */
  tryAcquire(target: string, owner: string): boolean {
    const holder = this.held.get(target);
    if (holder !== undefined && holder !== owner) return false;
    this.held.set(target, owner);
    return true;
  }

  release(target: string, owner: string): void {
    if (this.held.get(target) === owner) this.held.delete(target);
  }

  holder(target: string): string | undefined {
    return this.held.get(target);
  }
}
