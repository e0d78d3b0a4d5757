/**
 * A failing dependency: when the configuration names a host that does not resolve and the right
 * one is known, point the variables at it; otherwise the dependency is restored by a person.
 */
import {
  advise,
  builderOf,
  containerFix,
  describe,
  podTemplateOf,
  rolloutVerification,
  type Strategy,
} from './shared.js';
import { asArray, asObject, asString, at } from '../../domain/index.js';

/** The variables of the first container that name the unresolvable host, rewritten to the right one. */
const wrongHost: Strategy = ({ details: d, controlled, facts, verifyTimeout }) => {
  const hostFix = d.hostFix;
  if (!hostFix || !controlled) return undefined;
  for (const entry of asArray(podTemplateOf(controlled, facts)?.containers)) {
    const container = asObject(entry);
    const env = asArray(container?.env).filter((variable) =>
      (asString(at(variable, 'value')) ?? '').includes(hostFix.from),
    );
    if (!container || env.length === 0) continue;
    const fixed = env.map((variable) => ({
      name: asString(at(variable, 'name')),
      value: asString(at(variable, 'value'))!.split(hostFix.from).join(hostFix.to),
    }));
    return containerFix(
      controlled,
      asString(container.name) ?? '',
      { env: fixed },
      {
        description: `Point ${fixed.map((v) => v.name).join(', ')} of ${describe(controlled)} at ${hostFix.to}`,
        rationale: `${hostFix.from} does not resolve: the Service lives in another namespace. The corrected name ${hostFix.to} resolves to the existing Service.`,
        verification: rolloutVerification(
          controlled,
          verifyTimeout,
          'the application connects and becomes ready',
        ),
      },
    );
  }
  return undefined;
};

export const dependencyFailure = builderOf([wrongHost], (context) => {
  const d = context.details;
  return advise(context, {
    description: `Restore the dependency ${d.dependency ?? ''}`.trim(),
    instructions: `${context.finding.rootCause} Check that ${d.dependency ?? 'the dependency'} is up and reachable from the namespace (Service and endpoints exist, DNS resolves, credentials and certificates are valid). Restart this workload only if it does not reconnect after the dependency is back.`,
    rationale: 'The failure is outside this workload; changing it would not help.',
  });
});
