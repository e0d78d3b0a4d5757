/**
 * Redaction: unit cases per secret shape, structure-aware masking, pseudonymisation, and a property
 * test that no generated secret of the known shapes reaches a provider request body (captured by the
 * loopback fixture server, through the real SDK path).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RemediateInput } from '../../src/domain/index.js';
import { Pseudonymizer, Redactor } from '../../src/analysis/ai/redaction.js';
import { answer, FixtureServer, tools } from './fixture-server.js';
import { fakeClusterGateway } from './fake-cluster.js';
import { NAMESPACE, POD, analyzerFor, incidentInput, liveObjects, prepare } from './support.js';

describe('Redactor', () => {
  const cases: Array<[string, string, string]> = [
    ['bearer header', 'GET /api Authorization: Bearer abc123.def456-ghi789', 'abc123.def456-ghi789'],
    ['basic header', 'proxy-authorization: Basic dXNlcjpodW50ZXIy', 'dXNlcjpodW50ZXIy'],
    ['bare bearer', 'calling with token Bearer ya29.a0AfH6SMBx3', 'ya29.a0AfH6SMBx3'],
    [
      'jwt',
      'id_token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U seen',
      'dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
    ],
    ['aws access key', 'using AKIAIOSFODNN7EXAMPLE for s3', 'AKIAIOSFODNN7EXAMPLE'],
    [
      'aws secret',
      'aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    ],
    ['connection string', 'dial postgres://app:s3cr3t-P4ss@db.shop.svc:5432/orders failed', 's3cr3t-P4ss'],
    ['password pair', 'config loaded password=hunter2 user=app', 'hunter2'],
    [
      'json password with spaces',
      '{"db_password": "correct horse battery staple"}',
      'correct horse battery staple',
    ],
    ['cli flag', 'exec /app --db-password=Sup3rS3cret --port 8080', 'Sup3rS3cret'],
    ['env json', '{"name":"STRIPE_API_KEY","value":"pk_live_abcdef0123456789"}', 'pk_live_abcdef0123456789'],
    [
      'github token',
      'clone with ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 ok',
      'ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789',
    ],
    [
      'anthropic key',
      'key sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123',
      'sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123',
    ],
    [
      'private key',
      '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1\n-----END RSA PRIVATE KEY-----',
      'MIIEpAIBAAKCAQEA1',
    ],
  ];
  it.each(cases)('%s', (_name, input, secret) => {
    const redactor = new Redactor();
    const out = redactor.text(input);
    expect(out).not.toContain(secret);
    expect(out).toContain('[REDACTED');
    expect(redactor.count).toBeGreaterThan(0);
  });

  it('keeps diagnostic text that only mentions secrets', () => {
    const redactor = new Redactor();
    const lines = [
      'MountVolume.SetUp failed for volume "db-creds" : secret "db-creds" not found',
      "Error: couldn't find key password in Secret shop/checkout-db",
      'Basic authentication failed for user app',
      'dial tcp 10.0.0.12:5432: connect: connection refused',
    ];
    for (const line of lines) expect(redactor.text(line)).toBe(line);
    expect(redactor.count).toBe(0);
  });

  it('masks by structure: Secret data, secret-named env values and fields, not references', () => {
    const redactor = new Redactor();
    const value = redactor.value({
      kind: 'Secret',
      data: { password: 'aHVudGVy', username: 'YXBw' },
      env: [
        { name: 'DB_PASSWORD', value: 'plain-text-pw' },
        { name: 'LOG_LEVEL', value: 'debug' },
        { name: 'API_TOKEN', valueFrom: { secretKeyRef: { name: 'api', key: 'token' } } },
      ],
      volumes: [{ name: 'creds', secret: { secretName: 'db-creds' } }],
      apiKey: 'k-123456',
    }) as Record<string, unknown>;
    const text = JSON.stringify(value);
    for (const secret of ['aHVudGVy', 'YXBw', 'plain-text-pw', 'k-123456'])
      expect(text).not.toContain(secret);
    for (const kept of ['debug', 'db-creds', 'secretKeyRef', '"key":"token"', 'password', 'username'])
      expect(text).toContain(kept);
  });

  it('masks a private key spread over log lines', () => {
    const redactor = new Redactor();
    const lines = redactor.lines([
      'starting',
      '-----BEGIN PRIVATE KEY-----',
      'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC',
      'BKcwggSjAgEAAoIBAQC7',
      '-----END PRIVATE KEY-----',
      'ready',
    ]);
    expect(lines.join('\n')).not.toMatch(/MIIEvQ|BKcwgg/);
    expect(lines[0]).toBe('starting');
    expect(lines[5]).toBe('ready');
  });

  it('applies configured extra patterns and can be turned off', () => {
    expect(
      new Redactor({ enabled: true, extraPatterns: ['ACME-[0-9]{6}'] }).text('ticket ACME-123456 opened'),
    ).toBe('ticket [REDACTED:custom] opened');
    expect(new Redactor({ enabled: false }).text('password=hunter2')).toBe('password=hunter2');
  });
});

describe('Pseudonymizer', () => {
  it('replaces names with stable tokens and restores them', () => {
    const pseudonymizer = new Pseudonymizer();
    pseudonymizer.add('namespace', 'shop');
    pseudonymizer.add('pod', 'checkout-7d9f8b6c5d-x2x4q');
    pseudonymizer.add('workload', 'checkout');
    const text = 'pod checkout-7d9f8b6c5d-x2x4q of checkout in shop (shopping untouched)';
    const hidden = pseudonymizer.apply(text);
    expect(hidden).not.toMatch(/checkout|\bshop\b/);
    expect(hidden).toContain('shopping');
    expect(pseudonymizer.restore(hidden)).toBe(text);
  });
});

// ---------------------------------------------------------------------------------------------
// Property: nothing of a known secret shape reaches the provider.

const alnum = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const chars = (alphabet: string, min: number, max: number) =>
  fc
    .array(fc.constantFrom(...alphabet.split('')), { minLength: min, maxLength: max })
    .map((list) => list.join(''));
const upperDigits = chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789', 16, 16);
const base64 = chars(`${alnum}+/`, 40, 40);
const base64url = (min: number, max: number) => chars(`${alnum}-_`, min, max);
/** A secret value: random enough that finding it anywhere in the body means it leaked. */
const secretValue = chars(`${alnum}!$%*()_+~.-`, 12, 32).filter(
  (value) => /[0-9]/.test(value) && /[A-Za-z]/.test(value),
);

interface Secret {
  readonly embed: string;
  readonly secret: string;
}

const shapes: Array<fc.Arbitrary<Secret>> = [
  upperDigits.map((tail) => ({ embed: `AKIA${tail}`, secret: `AKIA${tail}` })),
  base64.map((key) => ({ embed: `aws_secret_access_key=${key}`, secret: key })),
  fc.tuple(base64url(10, 30), base64url(10, 40), base64url(20, 43)).map(([header, payload, signature]) => ({
    embed: `eyJ${header}.eyJ${payload}.${signature}`,
    secret: `${payload}.${signature}`,
  })),
  secretValue.map((token) => ({ embed: `Authorization: Bearer tk${token}`, secret: `tk${token}` })),
  secretValue.map((pair) => {
    const encoded = Buffer.from(`app:${pair}`).toString('base64');
    return { embed: `Authorization: Basic ${encoded}`, secret: encoded };
  }),
  secretValue.map((password) => ({
    embed: `postgres://app:${password}@db.shop.svc:5432/orders`,
    secret: password,
  })),
  secretValue.map((password) => ({ embed: `password=${password}`, secret: password })),
  secretValue.map((password) => ({ embed: `"client_secret": "${password} x"`, secret: `${password} x` })),
  chars(alnum, 36, 36).map((tail) => ({ embed: `ghp_${tail}`, secret: `ghp_${tail}` })),
  base64url(24, 40).map((tail) => ({ embed: `sk-ant-api03-${tail}`, secret: tail })),
  fc.array(base64, { minLength: 1, maxLength: 3 }).map((body) => ({
    embed: `-----BEGIN EC PRIVATE KEY-----\n${body.join('\n')}\n-----END EC PRIVATE KEY-----`,
    secret: body[0]!,
  })),
  chars('0123456789', 8, 8).map((digits) => ({ embed: `ACME-${digits}`, secret: `ACME-${digits}` })),
];
const separators = fc.constantFrom(' ', ' | ', ': ', ' "', '\t', ' [', ' (');
const words = fc
  .array(
    fc.constantFrom(
      'error',
      'request',
      'failed',
      'db',
      'connect',
      'INFO',
      'retry',
      'user=app',
      'took 35ms',
      'GET',
      '/v1/orders',
    ),
    { maxLength: 5 },
  )
  .map((list) => list.join(' '));
const placed = fc.record({
  secret: fc.oneof(...shapes),
  before: words,
  after: words,
  separator: separators,
  where: fc.constantFrom('log', 'event', 'annotation', 'env', 'configmap', 'issue', 'tool-log'),
});

type Placed = {
  readonly secret: Secret;
  readonly before: string;
  readonly after: string;
  readonly separator: string;
  readonly where: string;
};

function withSecrets(items: readonly Placed[]): {
  input: RemediateInput;
  toolLog: string;
} {
  const base = incidentInput();
  const logs: string[] = ['2026-11-20T10:00:00Z INFO starting'];
  const events: Array<Record<string, unknown>> = [];
  const annotations: Record<string, string> = {};
  const configData: Record<string, string> = {};
  const env: Array<Record<string, string>> = [];
  const toolLog: string[] = ['2026-11-20T10:00:00Z INFO previous instance'];
  let issue = base.issue;
  items.forEach((item, index) => {
    const text = `${item.before}${item.separator}${item.secret.embed}${item.separator === ' "' ? '"' : ''} ${item.after}`;
    switch (item.where) {
      case 'log':
        logs.push(...text.split('\n'));
        break;
      case 'tool-log':
        toolLog.push(...text.split('\n'));
        break;
      case 'event':
        events.push({
          type: 'Warning',
          reason: 'Failed',
          message: text,
          involvedObject: { kind: 'Pod', name: POD, namespace: NAMESPACE },
        });
        break;
      case 'annotation':
        annotations[`example.com/note-${index}`] = text;
        break;
      case 'env':
        env.push({ name: `SETTING_${index}`, value: text });
        break;
      case 'configmap':
        configData[`app-${index}.conf`] = text;
        break;
      case 'issue':
        issue = `${issue} ${text}`.slice(0, 9_000);
        break;
    }
  });
  return {
    toolLog: toolLog.join('\n'),
    input: {
      ...base,
      issue,
      context: {
        ...base.context,
        logs,
        relatedEvents: events,
        resources: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: 'checkout', namespace: NAMESPACE, annotations },
            spec: { template: { spec: { containers: [{ name: 'checkout', env }] } } },
          },
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: 'checkout-config', namespace: NAMESPACE },
            data: configData,
          },
        ],
      },
    },
  };
}

describe('no secret of a known shape reaches the provider (property, through the fixture server)', () => {
  let fixture: FixtureServer;
  beforeAll(async () => {
    fixture = await FixtureServer.start();
  });
  afterAll(async () => {
    await fixture.close();
  });

  it('control: with redaction off, the same generator does leak (the check can fail)', async () => {
    const { analyzer, budget } = analyzerFor('anthropic', fixture, { KUBEMEND_AI_REDACT: 'false' });
    const sample = fc.sample(fc.array(placed, { minLength: 6, maxLength: 6 }), { numRuns: 5, seed: 7 });
    let leaked = 0;
    for (const items of sample) {
      fixture.requests.length = 0;
      const { input, toolLog } = withSecrets(items);
      const cluster = fakeClusterGateway(liveObjects(), {
        [`${NAMESPACE}/${POD}/checkout/previous`]: toolLog,
      });
      fixture.enqueue(
        tools({ name: 'pod_logs', input: { pod: POD, previous: true } }),
        answer({ category: 'crash-loop', rootCause: 'exits', confidence: 0.5, evidence: [], actions: [] }),
      );
      const outcome = await analyzer.analyze(prepare(input, budget, cluster).request);
      expect(outcome.usage.redactions).toBe(0);
      const bodies = fixture.requests.map((captured) => JSON.stringify(captured.body)).join('\n');
      leaked += items.filter((item) => bodies.includes(item.secret.secret.split('\n')[0]!)).length;
    }
    expect(leaked).toBeGreaterThan(0);
  });

  for (const protocol of ['anthropic', 'openai'] as const) {
    it(`${protocol}: request bodies never contain the generated secrets`, async () => {
      const { analyzer, budget } = analyzerFor(protocol, fixture, {
        KUBEMEND_AI_REDACT_PATTERNS: '["ACME-[0-9]{8}"]',
      });
      await fc.assert(
        fc.asyncProperty(fc.array(placed, { minLength: 1, maxLength: 6 }), async (items) => {
          fixture.requests.length = 0;
          const { input, toolLog } = withSecrets(items);
          const cluster = fakeClusterGateway(liveObjects(), {
            [`${NAMESPACE}/${POD}/checkout/previous`]: toolLog,
          });
          fixture.enqueue(
            tools(
              { name: 'pod_logs', input: { pod: POD, previous: true } },
              { name: 'get_object', input: { kind: 'Secret', name: 'checkout-db' } },
            ),
            answer({
              category: 'crash-loop',
              rootCause: 'exits',
              confidence: 0.5,
              evidence: [],
              actions: [],
            }),
          );
          const { request } = prepare(input, budget, cluster);
          const outcome = await analyzer.analyze(request);
          expect(outcome.ok, outcome.ok ? '' : outcome.reason).toBe(true);
          expect(fixture.requests).toHaveLength(2);
          // One mask may cover two secrets on a line (an Authorization header masks to the end of the line).
          expect(outcome.usage.redactions, 'redactions counted').toBeGreaterThan(0);
          for (const captured of fixture.requests) {
            const decoded = JSON.stringify(captured.body);
            for (const item of items) {
              for (const fragment of item.secret.secret.split('\n')) {
                expect(captured.raw.includes(fragment), `${item.where}: ${item.secret.embed}`).toBe(false);
                expect(decoded.includes(fragment), `${item.where}: ${item.secret.embed}`).toBe(false);
              }
            }
            // The live Secret's value never left either.
            expect(captured.raw).not.toContain('aHVudGVyMi1zdXBlci1zZWNyZXQ=');
          }
        }),
        { numRuns: 40 },
      );
    }, 60_000);
  }
});
