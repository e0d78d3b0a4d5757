/** What every command shares: usage errors and the one validated configuration from its flags. */
import { KubemendError } from '../../domain/index.js';
import { loadConfiguration } from '../../config/configuration.js';

/** A mistake in the command line: exit code 2, like any bad input. */
export class UsageError extends KubemendError {
  constructor(message: string) {
    super('invalid-input', message);
  }
}

export interface CommonFlags {
  host?: string;
  port?: string;
  config?: string;
  policyFile?: string;
  runbooksDir?: string;
  kubeconfig?: string;
  context?: string;
  offline?: boolean;
  logLevel?: string;
}

/**
 * The configuration file, the environment and the command's flags, validated as one object
 * (`sections`: a command's own sections, e.g. `watch`, as its flags give them).
 */
export function configurationFrom(flags: CommonFlags, sections: Record<string, unknown> = {}) {
  if (flags.port !== undefined && !/^\d{1,5}$/.test(flags.port))
    throw new UsageError(`--port: must be a port number (got "${flags.port}")`);
  return loadConfiguration({
    file: flags.config,
    flags: {
      ...(flags.logLevel ? { logLevel: flags.logLevel as never } : {}),
      ...(flags.policyFile ? { policyFile: flags.policyFile } : {}),
      ...(flags.runbooksDir ? { runbooksDir: flags.runbooksDir } : {}),
      cluster: {
        ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}),
        ...(flags.context ? { context: flags.context } : {}),
        ...(flags.offline ? { offline: true } : {}),
      },
      server: {
        ...(flags.host ? { host: flags.host } : {}),
        ...(flags.port ? { port: Number(flags.port) } : {}),
      },
      ...sections,
    } as never,
  });
}
