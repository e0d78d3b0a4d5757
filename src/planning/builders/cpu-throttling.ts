/**
 * CPU throttling: double the CPU limit (at least 1.5× the observed use), requests unchanged.
 * Without a limit to patch, a person decides.
 */
import { formatCpu } from '../../domain/index.js';
import { advise, builderOf, containerFix, rolloutVerification, type Strategy } from './shared.js';

const raiseLimit: Strategy = ({ details: d, controlled, verifyTimeout }) => {
  if (!controlled || !d.container || d.cpuLimitMillicores === undefined) return undefined;
  const target = Math.max(d.cpuLimitMillicores * 2, (d.observedCpuMillicores ?? 0) * 1.5);
  const newLimit = Math.ceil(target / 100) * 100;
  return containerFix(
    controlled,
    d.container,
    { resources: { limits: { cpu: formatCpu(newLimit) } } },
    {
      description: `Raise the CPU limit of container ${d.container} from ${formatCpu(d.cpuLimitMillicores)} to ${formatCpu(newLimit)}`,
      rationale: `The container is throttled in ${Math.round((d.throttledRatio ?? 0) * 100)}% of CFS periods at its ${formatCpu(d.cpuLimitMillicores)} limit${d.observedCpuMillicores ? `; usage reaches ${Math.round(d.observedCpuMillicores)}m` : ''}. Requests are unchanged.`,
      verification: rolloutVerification(
        controlled,
        verifyTimeout,
        'the throttling ratio falls below 25% and probe timeouts stop',
      ),
    },
  );
};

export const cpuThrottling = builderOf([raiseLimit], (context) =>
  advise(context, {
    description: 'Raise the CPU limit',
    instructions: `${context.finding.rootCause} Raise resources.limits.cpu (or remove the CPU limit while keeping requests, if your policy allows).`,
    rationale: 'No CPU limit to patch was found.',
  }),
);
