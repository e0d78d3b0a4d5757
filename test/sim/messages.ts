// Every string the simulated kubelet and container runtime emit, in one place, worded as
// kubelet v1.36 with containerd 2.x writes them (shared/notes/k8s-failure-signals.md).
// `legacy` selects older wording where releases differ, so rules are tested against both.

export type Wording = 'current' | 'legacy';

/** Go's time.Duration.String() for a duration given in milliseconds: 523ms, 10s, 1m20s, 5m0s. */
export function goDuration(milliseconds: number): string {
  const ms = Math.round(milliseconds);
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const secondsMs = ms % 60_000;
  const seconds = (secondsMs / 1000).toFixed(3).replace(/\.?0+$/, '');
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

/** The kubelet's pod formatter: `name_namespace(uid)`. */
export function podRef(pod: { name: string; namespace: string; uid: string }): string {
  return `${pod.name}_${pod.namespace}(${pod.uid})`;
}

/** containerd's normalised reference: `nginx` → `docker.io/library/nginx:latest`. */
export function normalizeImage(image: string): string {
  let name = image;
  let suffix = '';
  const at = name.indexOf('@');
  if (at >= 0) {
    suffix = name.slice(at);
    name = name.slice(0, at);
  }
  const slash = name.indexOf('/');
  const first = slash >= 0 ? name.slice(0, slash) : '';
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasRegistry) name = `docker.io/${slash >= 0 ? name : `library/${name}`}`;
  const lastSegment = name.slice(name.lastIndexOf('/') + 1);
  if (!suffix && !lastSegment.includes(':')) name = `${name}:latest`;
  return name + suffix;
}

/** `registry/repo` of a normalised reference, without tag or digest. */
export function imageRepository(normalized: string): string {
  const at = normalized.indexOf('@');
  const withoutDigest = at >= 0 ? normalized.slice(0, at) : normalized;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  return colon > lastSlash ? withoutDigest.slice(0, colon) : withoutDigest;
}

export const kubeletMessages = {
  pulling: (image: string) => `Pulling image "${image}"`,
  pulled: (image: string, ms: number, size: number) =>
    `Successfully pulled image "${image}" in ${goDuration(ms)} (${goDuration(ms)} including waiting). Image size: ${size} bytes.`,
  alreadyPresent: (image: string) => `Container image "${image}" already present on machine`,
  failedToPull: (image: string, error: string) => `Failed to pull image "${image}": ${error}`,
  error: (reason: string) => `Error: ${reason}`,
  backOffPulling: (image: string) => `Back-off pulling image "${image}"`,
  imagePullBackOffWaiting: (image: string, pullError: string, wording: Wording) =>
    wording === 'legacy'
      ? `Back-off pulling image "${image}"`
      : `Back-off pulling image "${image}": ErrImagePull: ${pullError}`,
  created: (container: string, wording: Wording) =>
    wording === 'legacy' ? `Created container ${container}` : `Created container: ${container}`,
  started: (container: string) => `Started container ${container}`,
  stopping: (container: string) => `Stopping container ${container}`,
  livenessKill: (container: string) => `Container ${container} failed liveness probe, will be restarted`,
  startupKill: (container: string) => `Container ${container} failed startup probe, will be restarted`,
  backOffRestarting: (container: string, ref: string) =>
    `Back-off restarting failed container ${container} in pod ${ref}`,
  crashLoopWaiting: (backoffMs: number, container: string, ref: string) =>
    `back-off ${goDuration(backoffMs)} restarting failed container=${container} pod=${ref}`,
  probeFailed: (kind: 'Liveness' | 'Readiness' | 'Startup', output: string) =>
    `${kind} probe failed: ${output}`,
  mountSetUpFailed: (volume: string, error: string) =>
    `MountVolume.SetUp failed for volume "${volume}" : ${error}`,
  unableToMount: (unmounted: readonly string[], wording: Wording) =>
    wording === 'legacy'
      ? `Unable to attach or mount volumes: unmounted volumes=[${unmounted.join(' ')}], unattached volumes=[${unmounted.join(' ')}]: timed out waiting for the condition`
      : `Unable to attach or mount volumes: unmounted volumes=[${unmounted.join(' ')}], unattached volumes=[], failed to process volumes=[]: context deadline exceeded`,
  pullSecretMissing: (names: readonly string[]) =>
    `Unable to retrieve some image pull secrets (${names.join(', ')}); attempting to pull the image may not succeed.`,
  containersNotReady: (names: readonly string[]) => `containers with unready status: [${names.join(' ')}]`,
  containersNotInitialized: (names: readonly string[]) =>
    `containers with incomplete status: [${names.join(' ')}]`,
} as const;

export const runtimeMessages = {
  notFound: (normalized: string) =>
    `rpc error: code = NotFound desc = failed to pull and unpack image "${normalized}": failed to resolve reference "${normalized}": ${normalized}: not found`,
  unauthorized: (normalized: string) => {
    const repository = imageRepository(normalized);
    const host = repository.slice(0, repository.indexOf('/'));
    const path = repository.slice(repository.indexOf('/') + 1);
    return (
      `rpc error: code = Unknown desc = failed to pull and unpack image "${normalized}": failed to resolve reference "${normalized}": ` +
      `failed to authorize: failed to fetch anonymous token: unexpected status from GET request to ` +
      `https://${host}/token?scope=repository%3A${path.replace(/\//g, '%2F')}%3Apull&service=${host}: 401 Unauthorized`
    );
  },
  /** runc's exec error: a bare name is looked up in $PATH, a path is stat'ed. */
  execNotFound: (binary: string) =>
    `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "${binary}": ` +
    (binary.includes('/')
      ? `stat ${binary}: no such file or directory: unknown`
      : 'executable file not found in $PATH: unknown'),
} as const;

export const configMessages = {
  configMapNotFound: (name: string) => `configmap "${name}" not found`,
  secretNotFound: (name: string) => `secret "${name}" not found`,
  configMapKeyMissing: (key: string, namespace: string, name: string) =>
    `couldn't find key ${key} in ConfigMap ${namespace}/${name}`,
  secretKeyMissing: (key: string, namespace: string, name: string) =>
    `couldn't find key ${key} in Secret ${namespace}/${name}`,
  configMapVolumeKeyMissing: (key: string) => `configmap references non-existent config key: ${key}`,
  secretVolumeKeyMissing: (key: string) => `secret references non-existent secret key: ${key}`,
  runAsNonRootRoot: (ref: string, container: string) =>
    `container has runAsNonRoot and image will run as root (pod: "${ref}", container: ${container})`,
  runAsNonRootNonNumeric: (user: string, ref: string, container: string) =>
    `container has runAsNonRoot and image has non-numeric user (${user}), cannot verify user is non-root (pod: "${ref}", container: ${container})`,
  runAsUserRoot: (ref: string, container: string) =>
    `container's runAsUser breaks non-root policy (pod: "${ref}", container: ${container})`,
} as const;

export const probeOutputs = {
  httpRefused: (url: string, ip: string, port: number) =>
    `Get "${url}": dial tcp ${ip}:${port}: connect: connection refused`,
  httpStatus: (code: number) => `HTTP probe failed with statuscode: ${code}`,
  httpTimeout: (url: string) =>
    `Get "${url}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`,
  tcpRefused: (ip: string, port: number) => `dial tcp ${ip}:${port}: connect: connection refused`,
} as const;

/** Log-read errors of the kubelet's containerLogs handler (answered with 400 Bad Request). */
export const logMessages = {
  previousNotFound: (container: string, pod: string) =>
    `previous terminated container "${container}" in pod "${pod}" not found`,
  waiting: (container: string, pod: string, reason: string) => {
    const why =
      reason === 'ErrImagePull'
        ? "image can't be pulled"
        : reason === 'ImagePullBackOff'
          ? 'trying and failing to pull image'
          : reason;
    return `container "${container}" in pod "${pod}" is waiting to start: ${why}`;
  },
  noContainer: (container: string, pod: string) => `container ${container} is not valid for pod ${pod}`,
} as const;
