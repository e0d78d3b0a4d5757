/**
 * An in-memory ClusterGateway for unit tests of the investigation tools: reads (get, list, logs)
 * answer from a set of objects and logs; every other method — every write, and whatever the port
 * grows later — throws and is recorded, so a test can prove that nothing but reads happened.
 */
import type {
  ClusterGateway,
  KubeObject,
  ListOptions,
  LogOptions,
  ObjectKey,
} from '../../src/cluster/gateway.js';

export interface FakeClusterState {
  readonly reads: string[];
  readonly writes: string[];
  /** Delay for every read (tests of the time budget). */
  readDelayMs: number;
}

export type FakeClusterGateway = ClusterGateway & FakeClusterState;

class ReadOnlyFake {
  readonly server = 'https://fake-cluster.invalid';
  readonly reads: string[] = [];
  readonly writes: string[] = [];
  readDelayMs = 0;
  private readonly objects: KubeObject[];
  private readonly logText: ReadonlyMap<string, string>;

  constructor(objects: readonly KubeObject[], logs: Readonly<Record<string, string>>) {
    this.objects = [...objects];
    this.logText = new Map(Object.entries(logs));
  }

  private async pause(): Promise<void> {
    if (this.readDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.readDelayMs));
  }

  async version(): Promise<{ gitVersion: string }> {
    return { gitVersion: 'v1.36.3-fake' };
  }

  async get(key: ObjectKey): Promise<KubeObject | undefined> {
    this.reads.push(`get ${key.kind} ${key.namespace ?? ''}/${key.name}`);
    await this.pause();
    return this.objects.find(
      (object) =>
        object.kind === key.kind &&
        object.metadata?.name === key.name &&
        (key.namespace === undefined || object.metadata?.namespace === key.namespace),
    );
  }

  async list(kind: string, namespace?: string, options: ListOptions = {}): Promise<KubeObject[]> {
    this.reads.push(
      `list ${kind} ${namespace ?? '*'} ${options.labelSelector ?? ''} ${options.fieldSelector ?? ''}`.trim(),
    );
    await this.pause();
    const labels = parseSelector(options.labelSelector);
    const fields = parseSelector(options.fieldSelector);
    return this.objects.filter((object) => {
      if (object.kind !== kind) return false;
      if (namespace !== undefined && object.metadata?.namespace !== namespace) return false;
      for (const [key, value] of labels) if (object.metadata?.labels?.[key] !== value) return false;
      for (const [path, value] of fields)
        if (String(valueAt(object, path.split('.'))) !== value) return false;
      return true;
    });
  }

  async logs(namespace: string, pod: string, container: string, options: LogOptions = {}): Promise<string> {
    this.reads.push(`logs ${namespace}/${pod}/${container}${options.previous ? ' previous' : ''}`);
    await this.pause();
    const text = this.logText.get(`${namespace}/${pod}/${container}${options.previous ? '/previous' : ''}`);
    if (text === undefined) throw new Error(`container ${container} of pod ${pod} has no logs`);
    const lines = text.split('\n');
    return (options.tailLines ? lines.slice(-options.tailLines) : lines).join('\n');
  }
}

const READS = new Set(['server', 'reads', 'writes', 'readDelayMs', 'version', 'get', 'list', 'logs', 'then']);

/** Logs are keyed `namespace/pod/container` (add `/previous` for the previous instance). */
export function fakeClusterGateway(
  objects: readonly KubeObject[],
  logs: Readonly<Record<string, string>> = {},
): FakeClusterGateway {
  const fake = new ReadOnlyFake(objects, logs);
  return new Proxy(fake, {
    get(target, property, receiver) {
      if (typeof property !== 'string' || READS.has(property) || property.startsWith('_'))
        return Reflect.get(target, property, receiver) as unknown;
      if (property in target) return Reflect.get(target, property, receiver) as unknown;
      return (...args: unknown[]) => {
        const what = `${property} ${JSON.stringify(args[0] ?? '').slice(0, 120)}`;
        target.writes.push(what);
        return Promise.reject(
          new Error(`not a read: ${what} was attempted through a read-only test gateway`),
        );
      };
    },
  }) as unknown as FakeClusterGateway;
}

function parseSelector(selector: string | undefined): Array<[string, string]> {
  if (!selector) return [];
  return selector.split(',').map((part) => {
    const [key, value] = part.split('=');
    return [key ?? '', value ?? ''];
  });
}

function valueAt(object: unknown, path: readonly string[]): unknown {
  let current = object;
  for (const key of path) {
    if (!current || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
