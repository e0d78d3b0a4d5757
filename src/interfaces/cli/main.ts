#!/usr/bin/env node
/**
 * kubemend CLI. Thin: parse flags and input, call the service, translate errors into exit codes
 * (0 success/pending, 1 failed, 2 bad input; `scan`: 3 when it found something). With --json,
 * stdout carries exactly one JSON document.
 */
import { Command, CommanderError, Option } from 'commander';
import { errorMapping, EXIT_CODES, type ExitCode, KubemendError } from '../../domain/index.js';
import { describeFailure } from '../failure.js';
import { createApplication } from '../../app.js';
import { localPrincipal } from '../../auth/authenticator.js';
import { stderrLogger } from '../../service/remediation-service.js';
import { analyze, type AnalyzeFlags } from './analyze.js';
import { type CommonFlags as ServeFlags, configurationFrom } from './options.js';
import { report, type ReportFlags } from './report.js';
import { scan, SCAN_OUTPUTS, type ScanFlags } from './scan.js';
import { stopSignal } from './signals.js';
import { watch, type WatchFlags } from './watch.js';

export { EXIT_CODES };

/**
 * Report a failure on stderr (and, with --json, as one JSON document on stdout) and return the
 * exit code `ERROR_TABLE` gives its code.
 */
export function reportFailure(error: unknown, json: boolean): ExitCode {
  const failure = describeFailure(error);
  const message =
    failure.code === 'internal' && !(error instanceof KubemendError)
      ? `internal error: ${error instanceof Error ? error.message : String(error)}`
      : failure.message;
  process.stderr.write(`kubemend: ${message}\n`);
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ error: { code: failure.code, message, errors: failure.issues } })}\n`,
    );
  }
  return errorMapping(failure.code).exit;
}

async function serve(flags: ServeFlags): Promise<number> {
  const log: { current?: { warn: (message: string) => void } } = {};
  const stopped = stopSignal(() => log.current);
  const configuration = configurationFrom(flags);
  const app = await createApplication(configuration, {
    actor: 'kubemend',
  });
  // Loaded on demand: `analyze` should not pay for the server's start-up.
  const { createHttpServer } = await import('../http/server.js');
  const { app: http, stop } = await createHttpServer({
    service: app.service,
    configuration,
    authenticator: app.authenticator,
    readiness: [
      { name: 'sessions', check: async () => void (await app.sessions.list({ limit: 1 })) },
      { name: 'audit', check: async () => void (await app.audit.list({ limit: 1 })) },
      // Reported, not a reason to stop serving analyses: see docs/decisions/0023.
      { name: 'auditChain', informational: true, check: async () => app.service.assertAuditChainValid() },
    ],
  });
  log.current = http.log;
  for (const notice of app.notices) http.log.warn(notice);
  // Start-up reconciliation before serving, then periodic reconciliation and the retention purge.
  const background = await app.service.startBackgroundWork({ logger: http.log });
  app.notifications?.start(http.log);
  const watching = configuration.watch.enabled
    ? (await import('../../watch/start.js')).startWatchers(configuration.watch, await app.watchTargets(), {
        incidents: app.incidents,
        sessions: app.service,
        logger: {
          info: (detail, message) => http.log.info(detail, message),
          warn: (detail, message) => http.log.warn(detail, message),
          error: (detail, message) => http.log.error(detail, message),
        },
      })
    : undefined;
  await http.listen({ host: configuration.server.host, port: configuration.server.port });
  if (configuration.auth.tokens.length === 0 && configuration.auth.serviceAccounts.length === 0) {
    http.log.warn('no tokens or ServiceAccounts are configured: every API request will be refused (401)');
  }
  await stopped;
  await watching?.stop();
  // No reconciliation while stopping; then /readyz 503, drain, stop within server.shutdownTimeout.
  await background.stop();
  const report = await stop();
  const cut = report.handedOver.length + report.abandoned + report.interrupted > 0;
  if (cut) http.log.warn(report, 'stopped at the deadline: work handed over or ended failed');
  await app.close();
  // Work cut at the deadline may still be waiting on a timer; it can no longer write: do not wait.
  if (cut) process.exit(EXIT_CODES.success);
  return EXIT_CODES.success;
}

async function mcpStdio(flags: ServeFlags): Promise<number> {
  const configuration = configurationFrom(flags);
  const app = await createApplication(configuration, {
    actor: localPrincipal().name,
  });
  // stdout carries the protocol: notes and reports go to stderr, as `logLevel` allows.
  const logger = stderrLogger(configuration.logLevel);
  for (const notice of app.notices) logger.warn({}, notice);
  const background = await app.service.startBackgroundWork({ logger });
  const { createMcpServer } = await import('../mcp/server.js');
  const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
  const server = createMcpServer({ service: app.service, principal: localPrincipal });
  const transport = new StdioServerTransport();
  await server.connect(transport);
  await new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await background.stop();
  await server.close().catch(() => undefined);
  await app.close();
  return EXIT_CODES.success;
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command();
  let exitCode: number = EXIT_CODES.success;
  let jsonRequested =
    argv.includes('--json') || /(?:^|,)(?:-o|--output)(?:=|,)json(?:,|$)/.test(argv.join(','));
  program
    .name('kubemend')
    .description(
      'Kubernetes remediation: honest root cause, typed risk-rated actions, verified and reversible execution.',
    )
    .exitOverride()
    .configureOutput({
      writeErr: (text) => process.stderr.write(text),
      writeOut: (text) => process.stdout.write(text),
    });
  program
    .command('analyze')
    .description(
      'Analyse an issue and propose (or, as policy allows, execute) remediation actions: from a RemediateInput document, or from a live object (analyze deploy/checkout -n shop)',
    )
    .argument(
      '[TYPE/NAME]',
      'the object to analyse, as kubectl writes it (deploy/checkout, sts/db, po/x, svc/y, pvc/z, hpa/w, no/n)',
    )
    .option('--input <file>', 'RemediateInput JSON document; - for stdin')
    .option('-n, --namespace <ns>', "namespace of TYPE/NAME (default: the kubeconfig context's)")
    .option('--issue <text>', 'what is wrong, in words (default: built from the object’s status)')
    .option('--json', 'print exactly one RemediateOutput JSON document on stdout')
    .addOption(new Option('--mode <mode>', 'manual | automatic | hybrid | shadow (overrides the input)'))
    .option('--policy <name>', 'name of a configured policy')
    .option('--policy-file <file>', 'YAML file with named policies (KUBEMEND_POLICY_FILE)')
    .option('--runbooks-dir <dir>', 'directory of runbook YAML files (KUBEMEND_RUNBOOKS_DIR)')
    .option('--config <file>', 'YAML configuration file (KUBEMEND_CONFIG)')
    .option('--kubeconfig <file>', 'kubeconfig to use (KUBEMEND_KUBECONFIG)')
    .option('--context <name>', 'kubeconfig context to use (KUBEMEND_CONTEXT)')
    .option('--offline', 'never contact a cluster: analyse the given context only (KUBEMEND_OFFLINE)')
    .action(async (address: string | undefined, flags: AnalyzeFlags) => {
      jsonRequested = flags.json === true;
      exitCode = await analyze(address, flags);
    });
  program
    .command('scan')
    .description(
      'Find every failing workload, Service, claim, autoscaler, Job and Node, with its cause and proposed fix (read-only). Exit 0: nothing found; 3: something found',
    )
    .option(
      '-n, --namespace <ns>',
      "namespace(s) to scan, comma-separated (default: the kubeconfig context's)",
    )
    .option('-A, --all-namespaces', 'scan every namespace')
    .option('-l, --selector <selector>', 'only objects with these labels (kubectl -l syntax)')
    .addOption(new Option('-o, --output <format>', 'table | json | yaml').choices([...SCAN_OUTPUTS]))
    .option('--json', 'same as --output json')
    .option('--policy <name>', 'the policy the proposed actions are planned under')
    .option('--policy-file <file>', 'YAML file with named policies (KUBEMEND_POLICY_FILE)')
    .option('--runbooks-dir <dir>', 'directory of runbook YAML files (KUBEMEND_RUNBOOKS_DIR)')
    .option('--config <file>', 'YAML configuration file (KUBEMEND_CONFIG)')
    .option('--kubeconfig <file>', 'kubeconfig to use (KUBEMEND_KUBECONFIG)')
    .option('--context <name>', 'kubeconfig context to use (KUBEMEND_CONTEXT)')
    .action(async (flags: ScanFlags) => {
      jsonRequested = flags.json === true || flags.output === 'json';
      exitCode = await scan(flags);
    });
  program
    .command('report')
    .description(
      'Shadow agreement by category and action type, time to verified fix and auto-fix rate per category, from the session store',
    )
    .option('--since <duration>', 'sessions created in the last 30m, 12h, 7d, …')
    .option('--from <time>', 'sessions created at or after this ISO 8601 time')
    .option('--to <time>', 'sessions created before this ISO 8601 time')
    .option('--json', 'print the report as one JSON document')
    .option('--config <file>', 'YAML configuration file (KUBEMEND_CONFIG)')
    .action(async (flags: ReportFlags) => {
      jsonRequested = flags.json === true;
      exitCode = await report(flags);
    });
  program
    .command('serve')
    .description('Serve the HTTP/JSON API and MCP (Streamable HTTP at /mcp) on one port')
    .option('--host <host>', 'address to bind (KUBEMEND_HOST; default 127.0.0.1)')
    .option('--port <port>', 'port (KUBEMEND_PORT; default 8080)')
    .option('--config <file>', 'YAML configuration file (KUBEMEND_CONFIG)')
    .option('--policy-file <file>', 'YAML file with named policies (KUBEMEND_POLICY_FILE)')
    .option('--runbooks-dir <dir>', 'directory of runbook YAML files (KUBEMEND_RUNBOOKS_DIR)')
    .option('--kubeconfig <file>', 'kubeconfig to use (KUBEMEND_KUBECONFIG)')
    .option('--context <name>', 'kubeconfig context to use (KUBEMEND_CONTEXT)')
    .option('--offline', 'never contact a cluster')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (KUBEMEND_LOG_LEVEL)')
    .action(async (flags: ServeFlags) => {
      exitCode = await serve(flags);
    });
  program
    .command('watch')
    .description(
      'Watch pods, events and workloads in the given namespaces and open one session per failing workload (debounced, deduplicated, cooldown per workload); runs until stopped',
    )
    .option('-n, --namespace <ns>', 'namespace(s) to watch, comma-separated (watch.namespaces)')
    .addOption(new Option('--mode <mode>', 'mode of the sessions opened (watch.mode; default manual)'))
    .option('--policy <name>', 'policy of the sessions opened (watch.policy)')
    .option('--debounce <duration>', 'signals within this window make one incident (watch.debounce; 1s)')
    .option(
      '--cooldown <duration>',
      'after an incident closes, none for the workload before (watch.cooldown; 5m)',
    )
    .option('--cluster <names>', 'configured clusters to watch, comma-separated (watch.clusters)')
    .option('--config <file>', 'YAML configuration file (KUBEMEND_CONFIG)')
    .option('--policy-file <file>', 'YAML file with named policies (KUBEMEND_POLICY_FILE)')
    .option('--kubeconfig <file>', 'kubeconfig to use (KUBEMEND_KUBECONFIG)')
    .option('--context <name>', 'kubeconfig context to use (KUBEMEND_CONTEXT)')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (KUBEMEND_LOG_LEVEL)')
    .action(async (flags: WatchFlags) => {
      exitCode = await watch(flags);
    });
  program
    .command('mcp')
    .description('MCP over stdio (for Claude Code, VS Code and other MCP clients); acts as the local user')
    .option('--config <file>', 'YAML configuration file (KUBEMEND_CONFIG)')
    .option('--policy-file <file>', 'YAML file with named policies (KUBEMEND_POLICY_FILE)')
    .option('--runbooks-dir <dir>', 'directory of runbook YAML files (KUBEMEND_RUNBOOKS_DIR)')
    .option('--kubeconfig <file>', 'kubeconfig to use (KUBEMEND_KUBECONFIG)')
    .option('--context <name>', 'kubeconfig context to use (KUBEMEND_CONTEXT)')
    .option('--offline', 'never contact a cluster')
    .option('--log-level <level>', 'notes on stderr: fatal|error|warn|…|silent (KUBEMEND_LOG_LEVEL)')
    .action(async (flags: ServeFlags) => {
      exitCode = await mcpStdio(flags);
    });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.exitCode === 0
      )
        return EXIT_CODES.success;
      return errorMapping('invalid-input').exit; // a usage error; commander already printed it
    }
    return reportFailure(error, jsonRequested);
  }
}

const invokedDirectly =
  process.argv[1] !== undefined && /(?:main\.(?:js|ts)|kubemend(?:\.js)?)$/.test(process.argv[1]);
if (invokedDirectly) {
  let finished = false;
  // Never exit silently: if the event loop drains before main() settles, that is a bug, not success.
  process.once('beforeExit', () => {
    if (finished) return;
    process.stderr.write('kubemend: internal error: the run ended before producing a result\n');
    process.exitCode = EXIT_CODES.failed;
  });
  main(process.argv.slice(2)).then(
    (code) => {
      finished = true;
      process.exitCode = code;
    },
    (error: unknown) => {
      finished = true;
      process.stderr.write(
        `kubemend: internal error: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exitCode = EXIT_CODES.failed;
    },
  );
}
