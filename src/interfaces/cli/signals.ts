/**
 * Graceful stop for `kubemend serve`. Node as PID 1 (the container image) gets no default handling
 * of SIGTERM/SIGINT: these handlers are the only way it stops gracefully.
 */

/**
 * Resolves on the first SIGTERM or SIGINT. Installed before start-up, so a signal that arrives
 * while the server is starting is not lost: start-up completes, then the server stops. A second
 * signal while stopping exits at once (a person insisting; Kubernetes sends one, then SIGKILL).
 */
export function stopSignal(
  log: () => { warn: (message: string) => void } | undefined,
): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received: NodeJS.Signals | undefined;
    const onSignal = (signal: NodeJS.Signals) => {
      if (received) {
        log()?.warn(`${signal} again while stopping: exiting without waiting`);
        process.exit(signal === 'SIGINT' ? 130 : 143);
      }
      received = signal;
      log()?.warn(
        `${signal}: stopping — /readyz 503, no new connections, in-flight requests finish first (server.shutdownTimeout)`,
      );
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
