/**
 * The target step of an analysis: which object the request is about (`analysis.target`), and the
 * two answers that need no rules — a namespace the words name where a scan found nothing failing
 * (`healthy`), and a request kubemend cannot place (`failed`, saying what it needs).
 */
import type { Analysis, AnalysisTarget, RemediateInput, Remediation } from '../domain/index.js';
import type { ClusterGateway } from '../cluster/gateway.js';
import type { Policy } from '../planning/policy.js';
import { givenTarget, resolveTarget, type Resolution } from '../scan/resolve-target.js';

export interface TargetStep {
  /** The request to analyse (with `target` set when the words or a scan chose it). */
  readonly input: RemediateInput;
  readonly choice?: AnalysisTarget;
  /** An answer that needs no analysis (nothing resolvable, or nothing failing). */
  readonly answer?: {
    readonly analysis: Analysis;
    readonly remediation: Remediation;
    readonly failed: boolean;
  };
}

export async function chooseTarget(
  cluster: ClusterGateway | undefined,
  input: RemediateInput,
  options: {
    readonly policy: Policy;
    readonly onProgress?: (message: string) => void;
    readonly scan?: { readonly settleMs?: number };
  },
): Promise<TargetStep> {
  // Offline, only the request itself can say; the words are not checked against anything.
  const resolution: Resolution | undefined = cluster
    ? await resolveTarget(cluster, input, options)
    : givenTarget(input);
  if (!resolution) return { input };
  switch (resolution.outcome) {
    case 'target':
      return {
        // A target from the context stays implicit, as before: the context already anchors it.
        input: resolution.choice.chosenBy === 'context' ? input : { ...input, target: resolution.target },
        choice: resolution.choice,
      };
    case 'healthy-namespace': {
      const { report, namespace } = resolution;
      const checked = Object.entries(report.checked)
        .filter(([, count]) => count > 0)
        .map(([kind, count]) => `${count} ${kind}`);
      return {
        input,
        choice: resolution.choice,
        answer: {
          failed: false,
          analysis: {
            rootCause: `No failure signal in namespace ${namespace}: a scan found no failing workload, Service, claim, autoscaler or Job there${report.settling > 0 ? ` (${report.settling} object(s) are still starting and were not judged)` : ''}.`,
            confidence: report.partial ? 0.6 : 0.8,
            factors: [
              `the issue names namespace "${namespace}" but no object in it, so kubemend scanned the namespace`,
              ...report.notes,
            ],
            category: 'healthy',
            evidence: [],
            source: 'rules',
            checked: checked.length > 0 ? checked : ['the namespace holds no objects kubemend reads'],
            target: resolution.choice,
          },
          remediation: {
            summary: 'Nothing to do: nothing in the namespace is failing now.',
            actions: [],
            risk: 'low',
          },
        },
      };
    }
    case 'unresolved':
      return {
        input,
        choice: resolution.choice,
        answer: {
          failed: true,
          analysis: {
            rootCause: `kubemend could not tell which object the issue is about: ${resolution.choice.note}`,
            confidence: 0,
            factors: ['no target, no event or pod in the context, and no name of the cluster in the words'],
            category: 'unknown',
            evidence: [],
            source: 'rules',
            checked: ['the namespaces and objects of the cluster, against the words of the issue'],
            target: resolution.choice,
          },
          remediation: {
            summary: 'Nothing analysed: name the object the issue is about.',
            actions: [],
            risk: 'low',
          },
        },
      };
  }
}
