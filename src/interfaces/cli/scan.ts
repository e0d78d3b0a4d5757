/**
 * `kubemend scan [-n NS[,NS…] | -A] [-l SELECTOR] [--output table|json|yaml] [--json]`: every
 * failing workload, Service, claim, autoscaler, Job and Node, one finding per object a person would
 * change. Exit 0 when nothing is found, 3 when something is (1 and 2 as for every command).
 */
import { stringify } from 'yaml';
import {
  EXIT_CODES,
  InvalidInputError,
  type ScanRequest,
  ScanRequestSchema,
  toFieldIssues,
} from '../../domain/index.js';
import { connectCluster } from '../../cluster/connect.js';
import { KubemendError } from '../../domain/index.js';
import { createApplication } from '../../app.js';
import { renderScanTable } from '../render-scan.js';
import { type CommonFlags, configurationFrom, UsageError } from './options.js';
import { startSpinner } from './spinner.js';
import { contextNamespace } from './target.js';

export const SCAN_OUTPUTS = ['table', 'json', 'yaml'] as const;

export interface ScanFlags extends CommonFlags {
  namespace?: string;
  allNamespaces?: boolean;
  selector?: string;
  json?: boolean;
  output?: string;
  policy?: string;
}

/** Which request field each flag fills, for messages that name the flag. */
const FLAG_OF: Readonly<Record<string, string>> = {
  namespaces: '-n/--namespace',
  allNamespaces: '-A/--all-namespaces',
  labelSelector: '-l/--selector',
  policy: '--policy',
};

export async function scan(flags: ScanFlags): Promise<number> {
  const output = flags.json ? 'json' : (flags.output ?? 'table');
  if (!(SCAN_OUTPUTS as readonly string[]).includes(output))
    throw new UsageError(`--output: must be one of ${SCAN_OUTPUTS.join(', ')} (got "${output}")`);
  if (flags.namespace !== undefined && flags.allNamespaces)
    throw new UsageError('give either -n/--namespace or -A/--all-namespaces, not both');
  const configuration = configurationFrom(flags);
  const namespaces = flags.allNamespaces
    ? undefined
    : (flags.namespace?.split(',').map((name) => name.trim()) ?? [await contextNamespace(configuration)]);
  const parsed = ScanRequestSchema.safeParse({
    ...(namespaces ? { namespaces } : { allNamespaces: true }),
    ...(flags.selector !== undefined ? { labelSelector: flags.selector } : {}),
    ...(flags.policy !== undefined ? { policy: flags.policy } : {}),
  });
  if (!parsed.success)
    throw new InvalidInputError(
      toFieldIssues(parsed.error.issues).map((issue) => {
        const field = issue.path.split(/[.[]/)[0] ?? '';
        return { ...issue, path: FLAG_OF[field] ?? issue.path };
      }),
    );
  const request: ScanRequest = parsed.data;
  const connection = await connectCluster(configuration);
  if (!connection.gateway)
    throw new KubemendError(
      'cluster-unreachable',
      `scan reads the live cluster, and none is connected${connection.notice ? ` (${connection.notice})` : ' (no kubeconfig found, or --offline)'}`,
    );
  const app = await createApplication(configuration, { cluster: connection.gateway, ephemeral: true });
  const spinner = startSpinner();
  try {
    const report = await app.service.scan(request, { onProgress: (message) => spinner.update(message) });
    spinner.stop();
    if (output === 'json') process.stdout.write(`${JSON.stringify(report)}\n`);
    else if (output === 'yaml') process.stdout.write(stringify(report));
    else
      process.stdout.write(
        renderScanTable(report, { width: process.stdout.isTTY ? process.stdout.columns : undefined }),
      );
    return report.findings.length > 0 ? EXIT_CODES.findings : EXIT_CODES.success;
  } finally {
    spinner.stop();
    await app.close();
  }
}
