/** Action drafts: typed remediation actions before risk and policy are applied (rules and model build them). */
import type { ActionTarget } from './schemas.js';
import type { RiskLevel } from './vocabulary.js';

interface DraftBase {
  readonly target: ActionTarget;
  readonly description: string;
  readonly rationale: string;
  readonly verification: string;
  /** A risk the builder knows to be at least this high (deterministic rules may only raise it). */
  readonly minimumRisk?: RiskLevel;
  readonly command?: string;
  /** Who proposed it when not the built-in rules: `runbook:<name>` (shown on the action). */
  readonly source?: string;
}

export type ActionDraft =
  | (DraftBase & {
      readonly type: 'patch';
      readonly params: {
        patchType: 'strategic' | 'merge' | 'json';
        patch: Record<string, unknown> | Array<Record<string, unknown>>;
      };
    })
  | (DraftBase & { readonly type: 'scale'; readonly params: { replicas: number } })
  | (DraftBase & {
      readonly type: 'restart' | 'delete' | 'cordon' | 'uncordon';
      readonly params: Record<string, never>;
    })
  | (DraftBase & { readonly type: 'rollback'; readonly params: { toRevision?: number } })
  | (DraftBase & { readonly type: 'create'; readonly params: { manifest: Record<string, unknown> } })
  | (DraftBase & { readonly type: 'manual'; readonly params: { instructions: string } });
