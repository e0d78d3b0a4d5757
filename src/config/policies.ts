/** Policies from a YAML file (contract §5), validated once; the embedded defaults otherwise. */
import { readFileSync } from 'node:fs';
import { parseYaml } from './yaml.js';
import { ConfigurationError, formatPath, KubemendError } from '../domain/index.js';
import { builtInPolicies, DEFAULT_POLICY_NAME, PoliciesFileSchema, type Policy } from '../planning/policy.js';

export interface PolicySet {
  readonly policies: Readonly<Record<string, Policy>>;
  readonly defaultName: string;
  readonly source: string;
}

export function parsePolicies(text: string, source: string): PolicySet {
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (cause) {
    throw new ConfigurationError(`policy file ${source} is not valid YAML: ${(cause as Error).message}`, {
      cause,
    });
  }
  const result = PoliciesFileSchema.safeParse(parsed);
  if (!result.success) {
    const detail = result.error.issues
      .map((issue) =>
        issue.code === 'unrecognized_keys'
          ? issue.keys.map((key) => `${formatPath([...issue.path, key])}: unknown key`).join('; ')
          : `${formatPath(issue.path) || '(file)'}: ${issue.message}`,
      )
      .join('; ');
    throw new ConfigurationError(`policy file ${source} is invalid: ${detail}`);
  }
  const defaultName =
    result.data.default ??
    (DEFAULT_POLICY_NAME in result.data.policies
      ? DEFAULT_POLICY_NAME
      : Object.keys(result.data.policies)[0]);
  if (!defaultName || !(defaultName in result.data.policies)) {
    throw new ConfigurationError(
      `policy file ${source}: default policy ${defaultName ?? '(none)'} is not defined`,
    );
  }
  return { policies: result.data.policies, defaultName, source };
}

export function loadPolicies(policyFile: string | undefined): PolicySet {
  if (!policyFile)
    return { policies: builtInPolicies(), defaultName: DEFAULT_POLICY_NAME, source: 'embedded' };
  let text: string;
  try {
    text = readFileSync(policyFile, 'utf8');
  } catch (cause) {
    throw new ConfigurationError(
      `policy file ${policyFile} cannot be read (--policy-file / KUBEMEND_POLICY_FILE)`,
      { cause },
    );
  }
  return parsePolicies(text, policyFile);
}

/** The named policy, or a `policy-not-found` error naming the field and the choices. */
export function selectPolicy(set: PolicySet, name: string | undefined): { name: string; policy: Policy } {
  const chosen = name ?? set.defaultName;
  const policy = set.policies[chosen];
  if (!policy) {
    throw new KubemendError(
      'policy-not-found',
      `policy: no policy named "${chosen}" (available: ${Object.keys(set.policies).join(', ')})`,
    );
  }
  return { name: chosen, policy };
}

/** A cluster's policies: its inline `policies`, else its `policyFile`, else the top-level file. */
export function clusterPolicies(
  entry: {
    readonly name: string;
    readonly policyFile?: string;
    readonly policies?: Record<string, Policy>;
    readonly defaultPolicy?: string;
  },
  topLevelFile: string | undefined,
): PolicySet {
  if (!entry.policies) return loadPolicies(entry.policyFile ?? topLevelFile);
  const names = Object.keys(entry.policies);
  const defaultName =
    entry.defaultPolicy ?? (names.includes(DEFAULT_POLICY_NAME) ? DEFAULT_POLICY_NAME : names[0]);
  if (!defaultName || !(defaultName in entry.policies))
    throw new ConfigurationError(
      `clusters.${entry.name}.defaultPolicy: no inline policy named "${defaultName ?? ''}" (defined: ${names.join(', ')})`,
    );
  return { policies: entry.policies, defaultName, source: `clusters.${entry.name}.policies` };
}
