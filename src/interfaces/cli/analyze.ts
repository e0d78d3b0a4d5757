/**
 * `kubemend analyze`: a RemediateInput document (`--input FILE|-`, streamed), or an address
 * (`analyze deploy/checkout -n shop [--issue TEXT]`) from which the issue is built out of the live
 * object's status. Readable text by default, one JSON document with `--json`; on a terminal, a
 * spinner with the current phase on stderr.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import {
  EXIT_CODES,
  InvalidInputError,
  KubemendError,
  MODES,
  type RemediateInput,
  type RemediateOutput,
  type Target,
  parseRemediateInput,
} from '../../domain/index.js';
import { loadPolicies } from '../../config/policies.js';
import { connectCluster } from '../../cluster/connect.js';
import { createApplication } from '../../app.js';
import type { LogSummary } from '../../context/log-summary.js';
import { renderText } from '../render.js';
import { type CommonFlags, configurationFrom, UsageError } from './options.js';
import { readInputStream } from './read-input.js';
import { startSpinner } from './spinner.js';
import { contextNamespace, parseTypeName } from './target.js';

/** Inputs at least this large summarise their logs on a second thread. */
const PARALLEL_THRESHOLD_BYTES = 8 * 1024 * 1024;

export interface AnalyzeFlags extends CommonFlags {
  input?: string;
  namespace?: string;
  issue?: string;
  json?: boolean;
  mode?: string;
  policy?: string;
}

async function readDocument(path: string): Promise<{ input: RemediateInput; logs?: LogSummary }> {
  if (path === '-' && process.stdin.isTTY)
    throw new UsageError(
      '--input -: no input on stdin (pipe a RemediateInput JSON document, or give a file)',
    );
  let stream: NodeJS.ReadableStream;
  let parallel = false;
  if (path === '-') stream = process.stdin;
  else {
    const found = await stat(path).catch(() => undefined);
    if (found?.isDirectory())
      throw new UsageError(
        `--input: ${path} is a directory; give a RemediateInput JSON file, or - for stdin`,
      );
    parallel = (found?.size ?? 0) >= PARALLEL_THRESHOLD_BYTES;
    stream = createReadStream(path);
    await new Promise<void>((resolve, reject) => {
      (stream as ReturnType<typeof createReadStream>)
        .once('open', () => resolve())
        .once('error', (cause) =>
          reject(
            new UsageError(
              `--input: cannot read ${path}: ${(cause as NodeJS.ErrnoException).code ?? cause.message}`,
            ),
          ),
        );
    });
  }
  return readInputStream(stream as never, { parallel });
}

export async function analyze(address: string | undefined, flags: AnalyzeFlags): Promise<number> {
  const json = flags.json === true;
  if (flags.mode !== undefined && !(MODES as readonly string[]).includes(flags.mode))
    throw new UsageError(`--mode: must be one of ${MODES.join(', ')} (got "${flags.mode}")`);
  if (address !== undefined && flags.input !== undefined)
    throw new UsageError('give either TYPE/NAME or --input, not both');
  if (address === undefined && flags.input === undefined)
    throw new UsageError('give TYPE/NAME (e.g. analyze deploy/checkout -n shop) or --input FILE|-');
  if (address === undefined && (flags.namespace !== undefined || flags.issue !== undefined))
    throw new UsageError(
      `${flags.namespace !== undefined ? '-n/--namespace' : '--issue'} goes with TYPE/NAME, not --input`,
    );
  const configuration = configurationFrom(flags);
  loadPolicies(configuration.policyFile); // validated early: a bad policy file fails before any work
  const spinner = startSpinner();
  try {
    // A document is read (and checked) before the cluster is asked anything.
    const document = flags.input !== undefined ? await readDocument(flags.input) : undefined;
    const connection = await connectCluster(configuration);
    // Offline runs keep nothing; a run against a cluster records its session and audit durably.
    const actor = `cli:${userInfo().username}`;
    const app = await createApplication(configuration, {
      cluster: connection.gateway ?? null,
      ephemeral: !connection.gateway,
      oneShot: true,
      actor,
    });
    let result: RemediateOutput;
    try {
      const input = document
        ? {
            ...document.input,
            ...(flags.mode ? { mode: flags.mode as (typeof MODES)[number] } : {}),
            ...(flags.policy ? { policy: flags.policy } : {}),
          }
        : await inputFor(address!, flags, {
            connected: connection.gateway !== undefined,
            notice: connection.notice,
            namespace: flags.namespace ?? (await contextNamespace(configuration)),
            describe: (target) => {
              spinner.update(`reading ${address!}`);
              return app.service.describeTarget(target);
            },
          });
      result = await app.service.remediate(input, {
        logs: document?.logs,
        actor,
        onProgress: (_phase, message) => spinner.update(message),
      });
    } finally {
      await app.close();
    }
    spinner.stop();
    const output = connection.notice
      ? { ...result, notices: [connection.notice, ...(result.notices ?? [])] }
      : result;
    process.stdout.write(json ? `${JSON.stringify(output)}\n` : renderText(output));
    return output.status === 'failed' ? EXIT_CODES.failed : EXIT_CODES.success;
  } finally {
    spinner.stop();
  }
}

/** The request for `analyze TYPE/NAME`: the live object's status as the issue, unless --issue says it. */
async function inputFor(
  address: string,
  flags: AnalyzeFlags,
  cluster: {
    connected: boolean;
    notice?: string;
    namespace: string;
    describe: (target: Target) => Promise<string>;
  },
): Promise<RemediateInput> {
  const target = parseTypeName(address, cluster.namespace);
  if (!cluster.connected)
    throw new KubemendError(
      'cluster-unreachable',
      `analyze ${address} reads the live object, and no cluster is connected${cluster.notice ? ` (${cluster.notice})` : ''}`,
    );
  const issue = flags.issue ?? (await cluster.describe(target));
  const checked = parseRemediateInput({
    issue,
    target,
    ...(flags.mode ? { mode: flags.mode } : {}),
    ...(flags.policy ? { policy: flags.policy } : {}),
  });
  if (!checked.ok)
    throw new InvalidInputError(
      checked.error.issues.map((entry) => ({
        ...entry,
        path: entry.path === 'issue' ? '--issue' : entry.path,
      })),
    );
  return checked.value;
}
