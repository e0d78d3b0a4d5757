/**
 * The notification outbox on a real SQLite file with real loopback receivers: rows commit with
 * the state change they report (and only if it is made), a webhook that fails and then recovers
 * gets the notification once the dispatcher — restarted in between, on a reopened database —
 * retries it, signed with HMAC-SHA256; two dispatchers never claim the same message; Slack gets
 * Block Kit.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfiguration } from '../../src/config/configuration.js';
import { NotificationDispatcher } from '../../src/notifications/dispatcher.js';
import { NotifyingSessionStore } from '../../src/notifications/notifying-store.js';
import { signature } from '../../src/notifications/sinks.js';
import { openStorage, type Storage } from '../../src/sessions/factory.js';
import type { NewSession } from '../../src/sessions/store.js';

interface Received {
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  readonly status: number;
}

/** A loopback receiver answering `statuses` in turn (then 200), recording every request. */
async function receiver(
  statuses: number[] = [],
): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const status = statuses.shift() ?? 200;
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), status });
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/hook`, received, server };
}

let dir: string;
let servers: Server[] = [];
const SECRET = 'a-signing-key-of-some-length';

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kubemend-outbox-'));
  writeFileSync(join(dir, 'secret'), `${SECRET}\n`);
});

afterEach(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  servers = [];
  rmSync(dir, { recursive: true, force: true });
});

function section(sinks: unknown[]) {
  return loadConfiguration({
    env: {},
    flags: {
      notifications: {
        sinks,
        initialBackoff: '50ms',
        maxBackoff: '200ms',
        timeout: '2s',
        publicUrl: 'https://kubemend.example',
      },
    } as never,
  }).notifications;
}

const open = () => openStorage({ driver: 'sqlite', path: join(dir, 'kubemend.db') });

const newSession = (id: string): NewSession => ({
  id,
  state: 'analyzed',
  phase: 'executing',
  createdAt: new Date().toISOString(),
  actor: 'alertmanager',
  input: {
    issue: 'Alert KubePodCrashLooping',
    mode: 'automatic',
    target: { kind: 'Deployment', namespace: 'shop', name: 'web' },
  },
  approvals: [],
  results: [],
});

async function verifiedSession(
  storage: Storage,
  sinks: ReturnType<typeof section>['sinks'],
): Promise<NotifyingSessionStore> {
  const store = new NotifyingSessionStore(storage.sessions, sinks);
  const created = await store.create(newSession('s-1'));
  const executing = await store.transition(
    's-1',
    ['analyzed'],
    'executing',
    {},
    {
      audit: [{ type: 'session.completed', actor: 'test', sessionId: 's-1' }],
    },
  );
  await store.update('s-1', executing!.version, { state: 'verified', phase: 'done' });
  expect(created.version).toBe(1);
  return store;
}

describe('the outbox', () => {
  it('commits a notification with the state change it reports, and only if the change is made', async () => {
    const storage = await open();
    const store = new NotifyingSessionStore(
      storage.sessions,
      section([
        { type: 'webhook', name: 'ops', url: 'http://127.0.0.1:9/x', secretFile: join(dir, 'secret') },
      ]).sinks,
    );
    await store.create(newSession('s-2'));
    expect(await storage.sessions.outbox.forSession('s-2')).toEqual([]);
    // A transition that does not happen (wrong state) owes nothing.
    expect(await store.transition('s-2', ['pending'], 'executing')).toBeUndefined();
    expect(await storage.sessions.outbox.forSession('s-2')).toEqual([]);
    await store.transition('s-2', ['analyzed'], 'executing');
    // Writing the same state again adds nothing.
    const again = await store.get('s-2');
    await store.update('s-2', again!.version, { state: 'executing', phase: 'executing' });
    expect((await storage.sessions.outbox.forSession('s-2')).map((m) => m.event)).toEqual(['executing']);
    await storage.close();
  });

  it('delivers after the webhook failed, across a restart, signed, exactly once to the receiver', async () => {
    const hook = await receiver([503, 500]);
    servers.push(hook.server);
    const sinks = section([
      { type: 'webhook', name: 'ops', url: hook.url, secretFile: join(dir, 'secret'), events: ['verified'] },
    ]);
    let storage = await open();
    const store = await verifiedSession(storage, sinks.sinks);
    const first = new NotificationDispatcher({ sessions: store, section: sinks });
    expect(await first.round()).toBe(0); // 503
    expect(hook.received).toHaveLength(1);
    await first.stop();
    await storage.close();

    // Restart: a new process opens the same file; the message is still owed.
    storage = await open();
    const [owed] = await storage.sessions.outbox.forSession('s-1');
    expect(owed).toMatchObject({
      event: 'verified',
      attempts: 1,
      lastError: 'answered 503 Service Unavailable',
    });
    expect(owed!.deliveredAt).toBeUndefined();
    // What the metrics read: one message waiting since it was written, none given up.
    expect(await storage.sessions.outbox.backlog()).toEqual({
      waiting: 1,
      dead: 0,
      oldestWaitingAt: owed!.createdAt,
    });
    const second = new NotificationDispatcher({ sessions: storage.sessions, section: sinks });
    const deadline = Date.now() + 10_000;
    let delivered = 0;
    while (delivered === 0 && Date.now() < deadline) {
      delivered = await second.round();
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    expect(delivered).toBe(1);
    expect(await storage.sessions.outbox.backlog()).toEqual({ waiting: 0, dead: 0 });
    expect(hook.received.map((r) => r.status)).toEqual([503, 500, 200]);
    expect(await second.round()).toBe(0);
    expect(hook.received).toHaveLength(3);

    const last = hook.received.at(-1)!;
    const timestamp = String(last.headers['x-kubemend-timestamp']);
    expect(last.headers['x-kubemend-signature']).toBe(signature(SECRET, timestamp, last.body));
    expect(signature('another key', timestamp, last.body)).not.toBe(last.headers['x-kubemend-signature']);
    const document = JSON.parse(last.body);
    expect(document).toMatchObject({
      schema: 'kubemend.notification/v1',
      id: owed!.id,
      event: 'verified',
      attempt: 3,
      session: { id: 's-1', state: 'verified', mode: 'automatic' },
      target: { kind: 'Deployment', namespace: 'shop', name: 'web' },
      links: {
        session: 'https://kubemend.example/v1/sessions/s-1',
        page: 'https://kubemend.example/ui/sessions/s-1',
      },
    });
    expect(last.headers['x-kubemend-delivery']).toBe(owed!.id);
    // The document keeps to docs/notification.schema.json: its required fields, no others.
    const schema = JSON.parse(readFileSync('docs/notification.schema.json', 'utf8'));
    for (const field of schema.required) expect(document).toHaveProperty(field);
    for (const field of Object.keys(document)) expect(Object.keys(schema.properties)).toContain(field);
    for (const field of schema.properties.session.required) expect(document.session).toHaveProperty(field);
    // Every attempt carried the same idempotency id.
    expect(new Set(hook.received.map((r) => r.headers['x-kubemend-delivery']))).toEqual(new Set([owed!.id]));
    expect((await storage.sessions.outbox.forSession('s-1'))[0]!.deliveredAt).toBeDefined();
    await storage.close();
  });

  it('never lets two dispatchers hold the same message', async () => {
    const storage = await open();
    const sinks = section([
      { type: 'webhook', name: 'ops', url: 'http://127.0.0.1:9/x', secretFile: join(dir, 'secret') },
    ]);
    const store = new NotifyingSessionStore(storage.sessions, sinks.sinks);
    for (let i = 0; i < 30; i++) {
      await store.create(newSession(`c-${i}`));
      await store.transition(`c-${i}`, ['analyzed'], 'failed');
    }
    const now = new Date(Date.now() + 1000).toISOString();
    const until = new Date(Date.now() + 60_000).toISOString();
    const claims = await Promise.all(
      ['a', 'b', 'c'].map((owner) => storage.sessions.outbox.claim(owner, now, until, 20)),
    );
    const ids = claims.flat().map((m) => m.id);
    expect(ids).toHaveLength(30);
    expect(new Set(ids).size).toBe(30);
    await storage.close();
  });

  it('sends Slack a Block Kit message with cause, actions with risk, kubectl and links', async () => {
    const slack = await receiver();
    servers.push(slack.server);
    writeFileSync(join(dir, 'slack-url'), slack.url);
    const sinks = section([{ type: 'slack', name: 'chat', urlFile: join(dir, 'slack-url') }]);
    const storage = await open();
    const store = new NotifyingSessionStore(storage.sessions, sinks.sinks);
    await store.create(newSession('p-1'));
    await store.transition('p-1', ['analyzed'], 'pending', {
      phase: 'done',
      output: {
        status: 'pending',
        sessionId: 'p-1',
        executed: false,
        analysis: {
          rootCause: 'The container is OOM-killed: limit 64Mi',
          confidence: 0.9,
          factors: [],
          category: 'oom-killed',
          evidence: ['Last State: OOMKilled'],
          source: 'rules',
        },
        remediation: {
          summary: 'raise the memory limit',
          risk: 'medium',
          actions: [
            {
              id: 'a1',
              type: 'patch',
              target: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'shop', name: 'web' },
              description: 'Raise the memory limit to 128Mi',
              command: 'kubectl -n shop patch deployment web --type strategic -p ...',
              risk: 'medium',
              rationale: 'r',
              verification: 'v',
              decision: { decision: 'await-approval', reason: 'medium risk' },
              params: { patchType: 'strategic', patch: {} },
            },
          ],
        },
      },
    });
    const dispatcher = new NotificationDispatcher({ sessions: storage.sessions, section: sinks });
    expect(await dispatcher.round()).toBe(1);
    const message = JSON.parse(slack.received[0]!.body);
    const text = JSON.stringify(message.blocks);
    expect(message.text).toContain('Approval needed');
    expect(text).toContain('OOM-killed');
    expect(text).toContain('Last State: OOMKilled');
    expect(text).toContain('risk *medium*');
    expect(text).toContain('kubectl -n shop patch deployment web');
    // The button opens the approvals page (a chat link cannot make the signed-in, CSRF-checked
    // POST an approval takes); the API's approve/reject URLs are for the webhook's machines.
    expect(message.blocks.at(-1)).toEqual({
      type: 'actions',
      elements: [
        {
          type: 'button',
          style: 'primary',
          text: { type: 'plain_text', text: 'Review and approve' },
          url: 'https://kubemend.example/ui/sessions/p-1',
        },
      ],
    });
    expect(text).not.toContain('/v1/sessions/p-1/approve');
    await storage.close();
  });
});
