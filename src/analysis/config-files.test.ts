import { describe, expect, it } from 'vitest';
import { contextFromInput } from '../context/normalize.js';
import { configFileError } from './config-files.js';
import { Facts } from './facts.js';

function facts(logs: string[], mounts: unknown[], volumes: unknown[]): Facts {
  return new Facts(
    contextFromInput({
      issue: 'restarts',
      context: {
        logs,
        podSpec: {
          metadata: { name: 'app-1', namespace: 'shop' },
          spec: { containers: [{ name: 'app', image: 'app:1', volumeMounts: mounts }], volumes },
        },
      },
    }),
  );
}

describe('a configuration file that does not parse', () => {
  it('nginx: the line and directive, and the ConfigMap key the file is mounted from', () => {
    const f = facts(
      ['nginx: [emerg] unknown directive "proxy_passs" in /etc/nginx/conf.d/default.conf:14'],
      [{ name: 'conf', mountPath: '/etc/nginx/conf.d' }],
      [{ name: 'conf', configMap: { name: 'edge-nginx' } }],
    );
    const found = configFileError(f, f.primaryPod?.containers[0]);
    expect(found).toMatchObject({
      path: '/etc/nginx/conf.d/default.conf',
      fileLine: 14,
      named: 'proxy_passs',
      source: { configMap: 'edge-nginx', key: 'default.conf' },
    });
  });

  it('Go YAML with file= (Alertmanager, Prometheus), and a key mapped with items', () => {
    const f = facts(
      [
        'ts=2025-06-03T18:02:11.410Z caller=coordinator.go:118 level=error component=configuration msg="Loading configuration file failed" file=/etc/am/am.yml err="yaml: unmarshal errors:\\n  line 14: field reciever not found in type config.plain"',
      ],
      [{ name: 'cfg', mountPath: '/etc/am' }],
      [{ name: 'cfg', configMap: { name: 'am-config', items: [{ key: 'alertmanager', path: 'am.yml' }] } }],
    );
    expect(configFileError(f, f.primaryPod?.containers[0])).toMatchObject({
      path: '/etc/am/am.yml',
      fileLine: 14,
      named: 'reciever',
      source: { configMap: 'am-config', key: 'alertmanager' },
    });
  });

  it('PyYAML and HAProxy (subPath), and nothing for lines that are not parse errors', () => {
    const yaml = facts(
      [
        'yaml.scanner.ScannerError: mapping values are not allowed here',
        '  in "/etc/app/settings.yaml", line 7, column 12',
      ],
      [{ name: 'settings', mountPath: '/etc/app' }],
      [{ name: 'settings', projected: { sources: [{ configMap: { name: 'app-settings' } }] } }],
    );
    expect(configFileError(yaml, yaml.primaryPod?.containers[0])).toMatchObject({
      path: '/etc/app/settings.yaml',
      fileLine: 7,
      source: { configMap: 'app-settings', key: 'settings.yaml' },
    });
    const haproxy = facts(
      [
        "[ALERT]    (1) : config : parsing [/usr/local/etc/haproxy/haproxy.cfg:23] : unknown keyword 'bakend' out of section.",
      ],
      [{ name: 'cfg', mountPath: '/usr/local/etc/haproxy/haproxy.cfg', subPath: 'haproxy.cfg' }],
      [{ name: 'cfg', configMap: { name: 'haproxy' } }],
    );
    expect(configFileError(haproxy, haproxy.primaryPod?.containers[0])).toMatchObject({
      fileLine: 23,
      named: 'bakend',
      source: { configMap: 'haproxy', key: 'haproxy.cfg' },
    });
    const none = facts(['listening on :8080', 'ERROR connection refused'], [], []);
    expect(configFileError(none, none.primaryPod?.containers[0])).toBeUndefined();
  });
});
