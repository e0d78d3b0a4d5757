/**
 * A configuration file that fails to parse at start-up, as the program says it (the file, the line,
 * the key or directive), and the ConfigMap key that file is mounted from: the object a person
 * corrects. Wording from upstream programs: nginx (`[emerg] unknown directive "x" in
 * /etc/nginx/conf.d/default.conf:14`), Go YAML (`yaml: line 7: …`, `yaml: unmarshal errors:
 * line 14: field x not found in type config.plain`, logged with `file=` by Prometheus and
 * Alertmanager), PyYAML (`in "/etc/app/config.yaml", line 7, column 12`), Node's JSON
 * (`SyntaxError: /app/config.json: Unexpected token`), HAProxy (`parsing [/usr/local/etc/haproxy/
 * haproxy.cfg:23] : unknown keyword`), TOML (`TOML parse error at line 3, column 9`), Spring Boot
 * (`Failed to load property source from location 'file:/config/application.yml'`).
 */
import { asArray, asString, at } from '../domain/index.js';
import type { ContainerView, PodView } from '../context/model.js';
import type { Facts, RetainedLine } from './facts.js';

const CONFIG_PATH =
  /(\/(?:[\w.@+-]+\/)*[\w.@+-]+\.(?:ya?ml|json|toml|conf|cfg|ini|properties|xml|hcl|cnf|env))\b/;

/** A line that reports a file that could not be parsed, with where the program says the fault is. */
const PARSE_ERROR: ReadonlyArray<{
  readonly pattern: RegExp;
  readonly line?: number;
  readonly path?: number;
}> = [
  // nginx: [emerg] unknown directive "proxy_passs" in /etc/nginx/conf.d/default.conf:14
  { pattern: /\[emerg\][^\n]*? in (\/\S+?):(\d+)\b/, path: 1, line: 2 },
  // HAProxy: parsing [/usr/local/etc/haproxy/haproxy.cfg:23] : unknown keyword
  { pattern: /parsing \[(\/[^\]:]+):(\d+)\]/, path: 1, line: 2 },
  // PyYAML / ruamel: in "/etc/app/config.yaml", line 7, column 12
  { pattern: /in ["'](\/[^"']+)["'], line (\d+)/, path: 1, line: 2 },
  // Go YAML (with file= or a path elsewhere on the line): yaml: line 7: …, or line 14: field x not found
  { pattern: /yaml: (?:unmarshal errors:(?:\\n|\s)+)?line (\d+):/, line: 1 },
  { pattern: /\bline (\d+): field \S+ not found in type/, line: 1 },
  // TOML parse error at line 3, column 9
  { pattern: /TOML parse error at line (\d+)/, line: 1 },
  // JSON: SyntaxError: /app/config.json: Unexpected token } in JSON at position 88
  { pattern: /SyntaxError: (\/\S+\.json): Unexpected/, path: 1 },
  { pattern: /(?:JSONDecodeError|json: cannot unmarshal|invalid character '.' (?:looking for|after))/ },
  // Spring Boot and generic loaders
  { pattern: /Failed to load property source from location '(?:file:)?(\/[^']+)'/, path: 1 },
  {
    pattern:
      /(?:error|failed|invalid|cannot|can't|could not|unable to)[^\n]{0,80}?(?:pars|unmarshal|decod|syntax)\w*/i,
  },
];

/** The key or directive the program names, when it names one. */
const NAMED = [
  /unknown directive "([^"]+)"/,
  /unknown keyword '([^']+)'/,
  /field (\S+) not found in type/,
  /(?:unknown|unexpected|invalid) (?:key|field|option|property|setting)[ :]+["'`]?([\w.-]+)/i,
  /KeyError: ["']([\w.-]+)["']/,
];

export interface ConfigFileError {
  readonly line: RetainedLine;
  readonly path: string;
  readonly fileLine?: number;
  /** The key or directive the program names (`reciever`, `proxy_passs`). */
  readonly named?: string;
  /** The ConfigMap key the file is mounted from, when the pod's volumes say. */
  readonly source?: { readonly configMap: string; readonly key: string; readonly volume: string };
}

/** The ConfigMap and key a path inside the container comes from (a configMap or projected volume). */
export function configMapKeyOf(
  pod: PodView | undefined,
  container: ContainerView | undefined,
  path: string,
): ConfigFileError['source'] | undefined {
  if (!pod || !container) return undefined;
  const mounts = asArray(container.spec.volumeMounts)
    .map((mount) => ({
      volume: asString(at(mount, 'name')) ?? '',
      mountPath: (asString(at(mount, 'mountPath')) ?? '').replace(/\/+$/, ''),
      subPath: asString(at(mount, 'subPath')),
    }))
    .filter(
      (mount) => mount.mountPath && (path === mount.mountPath || path.startsWith(`${mount.mountPath}/`)),
    )
    .sort((a, b) => b.mountPath.length - a.mountPath.length);
  for (const mount of mounts) {
    const volume = asArray(pod.spec.volumes).find((v) => asString(at(v, 'name')) === mount.volume);
    const sources = [
      at(volume, 'configMap'),
      ...asArray(at(volume, 'projected', 'sources')).map((s) => at(s, 'configMap')),
    ].filter((s) => s !== undefined);
    const relative = mount.subPath ?? path.slice(mount.mountPath.length + 1);
    for (const configMap of sources) {
      const name = asString(at(configMap, 'name'));
      if (!name) continue;
      const items = asArray(at(configMap, 'items'));
      const item = items.find((entry) => asString(at(entry, 'path')) === relative);
      if (items.length > 0 && !item) continue;
      const key = item ? asString(at(item, 'key')) : relative.split('/')[0];
      if (key) return { configMap: name, key, volume: mount.volume };
    }
  }
  return undefined;
}

/** The newest line of a container's own output reporting a configuration file it cannot parse. */
export function configFileError(facts: Facts, container?: ContainerView): ConfigFileError | undefined {
  const lines = facts.ownLines(container?.name);
  for (let index = lines.length - 1; index >= 0; index--) {
    const line = lines[index]!;
    for (const { pattern, path: pathGroup, line: lineGroup } of PARSE_ERROR) {
      const match = pattern.exec(line.line);
      if (!match) continue;
      const path =
        (pathGroup ? match[pathGroup] : undefined) ??
        /\bfile=["']?(\/[^\s"']+)/.exec(line.line)?.[1] ??
        CONFIG_PATH.exec(line.line)?.[1];
      if (!path) continue;
      const fileLine = lineGroup ? Number(match[lineGroup]) : undefined;
      const named = NAMED.map((n) => n.exec(line.line)?.[1]).find(Boolean);
      const pod = facts.primaryPod;
      return {
        line,
        path,
        ...(fileLine ? { fileLine } : {}),
        ...(named ? { named } : {}),
        ...(() => {
          const source = configMapKeyOf(pod, container, path);
          return source ? { source } : {};
        })(),
      };
    }
  }
  return undefined;
}
