/**
 * The approvals page in a real browser (Debian's chromium through Playwright, headless) against
 * `kubemend serve`'s HTTP server and the real control plane:
 * - sign in (a wrong token is refused), the list shows the pending session first;
 * - open it, see the dry-run diff of the memory limit, approve, and watch it verify through the
 *   live updates (server-sent events), with no Content-Security-Policy violation;
 * - a stale plan hash is refused with a page saying so; a forged POST from another site and from
 *   another origin of the same site are refused and change nothing; an expired sign-in is sent
 *   back to the login page;
 * - with JavaScript disabled, the pages read completely.
 * Screenshots of the pages go to $KUBEMEND_SCREENSHOTS (`npm run screenshots`: docs/screenshots).
 */
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApplication, type Application } from '../../src/app.js';
import { KubeClusterGateway } from '../../src/cluster/kube-gateway.js';
import { createHttpServer } from '../../src/interfaces/http/server.js';
import { registerUi } from '../../src/interfaces/ui/plugin.js';
import {
  createOomKilled,
  KUBEMEND_KUBECONFIG,
  kubectl,
  loadKubeconfig,
  requireCluster,
  runClusterScript,
  uniqueName,
} from '../cluster/cluster-harness.js';
import { launchChromium } from './browser.js';
import { TestClock, TOKENS, uiConfiguration } from './support.js';

const namespace = uniqueName('ui');
const SHOTS = process.env['KUBEMEND_SCREENSHOTS'] ?? mkdtempSync(join(tmpdir(), 'kubemend-shots-'));
let app: Application;
let http: FastifyInstance;
let base: string;
let browser: Browser;

async function listen(server: FastifyInstance, host = '127.0.0.1'): Promise<number> {
  await server.listen({ host, port: 0 });
  return (server.server.address() as { port: number }).port;
}

async function pending(name: string): Promise<string> {
  await createOomKilled(name, namespace);
  const output = await app.service.remediate(
    { issue: `${name} keeps restarting`, target: { kind: 'Deployment', namespace, name } },
    { actor: 'token:ci-pipeline' },
  );
  expect(output.status, JSON.stringify(output.analysis)).toBe('pending');
  return output.sessionId;
}

async function signIn(context: BrowserContext, token: string, at = base): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${at}/ui/sessions`);
  await page.fill('#token', token);
  await Promise.all([page.waitForURL(/\/ui\/sessions/), page.click('#sign-in')]);
  return page;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

beforeAll(async () => {
  await requireCluster();
  runClusterScript('kubemend-identity.sh', [namespace]);
  mkdirSync(SHOTS, { recursive: true });
  const configuration = uiConfiguration();
  app = await createApplication(configuration, {
    cluster: new KubeClusterGateway(loadKubeconfig(KUBEMEND_KUBECONFIG)),
    engine: { pollIntervalMs: 250, stabilityMs: 2_000 },
  });
  ({ app: http } = await createHttpServer({
    service: app.service,
    configuration,
    authenticator: app.authenticator,
  }));
  base = `http://127.0.0.1:${await listen(http)}`;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await http?.close();
  await app?.close();
  kubectl(['delete', 'namespace', namespace, '--wait=false'], { timeout: 30_000 });
});

describe('the approvals page in chromium', () => {
  it('signs in, shows the diff, approves, and watches the session verify', async () => {
    const id = await pending('web');
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const violations: string[] = [];
    context.on('console', (message) => {
      if (/Content.Security.Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
    const login = await context.newPage();
    await login.goto(`${base}/ui/sessions`);
    expect(login.url()).toContain('/ui/login');
    await shot(login, 'login');
    await login.fill('#token', 'a-wrong-token');
    await login.click('#sign-in');
    await expect(login.locator('[role=alert]').textContent()).resolves.toContain('That token is not valid.');
    await login.close();

    const page = await signIn(context, TOKENS.operator);
    const first = page.locator('#sessions tbody tr').first();
    await expect(first.textContent()).resolves.toContain(id);
    await expect(first.locator('.badge').first().textContent()).resolves.toBe('pending');
    await shot(page, 'sessions');

    await page.click(`a[href="/ui/sessions/${id}"]`);
    await page.waitForSelector('#approve-form');
    const added = await page.locator('.diff-added').allTextContents();
    expect(added.join('\n'), 'the dry-run diff raises the memory limit').toMatch(/\+\s+memory: \S+/);
    expect(await page.locator('.diff-removed').allTextContents()).not.toEqual([]);
    await expect(page.locator('#analysis').textContent()).resolves.toContain('oom-killed');
    await shot(page, 'session-pending');

    await page.fill('#approve-note', 'memory graphs agree');
    await Promise.all([page.waitForURL(`${base}/ui/sessions/${id}`), page.click('#approve')]);
    // The page follows the execution by itself (server-sent events, then a re-read of its parts).
    await page.locator('#timeline .badge.state-verified').waitFor({ timeout: 120_000 });
    await expect(page.locator('#timeline').textContent()).resolves.toContain('memory graphs agree');
    await expect(page.locator('#actions').textContent()).resolves.toContain('verified');
    await expect(page.locator('#audit').textContent()).resolves.toContain('action.verified');
    await shot(page, 'session-verified');
    expect(violations).toEqual([]);
    await context.close();
    expect((await app.service.session(id))!.state).toBe('verified');
  });

  it('refuses a stale plan, a forged cross-site POST and a forged cross-origin POST', async () => {
    const id = await pending('stale');
    const context = await browser.newContext();
    const page = await signIn(context, TOKENS.operator);
    await page.goto(`${base}/ui/sessions/${id}`);
    await page.waitForSelector('#approve-form');
    // The plan changes after the page was rendered (as a re-analysis would change it).
    const session = (await app.service.session(id))!;
    await app.sessions.update(id, session.version, { planHash: 'f'.repeat(64) });
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/approve')),
      page.click('#approve'),
    ]);
    expect(response.status()).toBe(409);
    await expect(page.locator('#refusal').textContent()).resolves.toContain(
      'the plan changed after this page was rendered',
    );
    await shot(page, 'stale-plan');
    expect((await app.service.session(id))!.state).toBe('pending');

    // Another site (localhost is not 127.0.0.1's site) and another origin of the same site.
    const attacker = Fastify();
    attacker.get('/', async (_request, reply) =>
      reply.type('text/html').send(`<form id="f" method="post" action="${base}/ui/sessions/${id}/approve">
        <input name="planHash" value="${'f'.repeat(64)}"><input name="_csrf" value="guess"></form>
        <script>document.getElementById('f').submit()</script>`),
    );
    const attackerPort = await listen(attacker);
    try {
      for (const origin of [`http://localhost:${attackerPort}`, `http://127.0.0.1:${attackerPort}`]) {
        const forged = await context.newPage();
        const answer = forged.waitForResponse((r) => r.url().endsWith('/approve'));
        await forged.goto(`${origin}/`);
        const status = (await answer).status();
        expect([401, 403], `${origin} → ${status}`).toContain(status);
        await forged.close();
      }
    } finally {
      await attacker.close();
    }
    expect((await app.service.session(id))!).toMatchObject({ state: 'pending', approvals: [] });
    await context.close();
  });

  it('sends an expired sign-in back to the login page', async () => {
    const clock = new TestClock();
    const expiring = Fastify();
    await registerUi(expiring, {
      service: app.service,
      configuration: app.configuration,
      authenticator: app.authenticator,
      now: clock.now,
    });
    const at = `http://127.0.0.1:${await listen(expiring)}`;
    try {
      const context = await browser.newContext();
      const page = await signIn(context, TOKENS.reader, at);
      clock.advance(8 * 3_600_000 + 1_000);
      await page.reload();
      expect(page.url()).toContain('/ui/login');
      await expect(page.locator('[role=status]').textContent()).resolves.toContain(
        'Your sign-in has expired',
      );
      await context.close();
    } finally {
      await expiring.close();
    }
  });

  it('reads completely with JavaScript disabled', async () => {
    const id = await pending('nojs');
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await signIn(context, TOKENS.reader);
    await page.goto(`${base}/ui/sessions?namespace=${namespace}&status=pending`);
    await expect(page.locator('#sessions').textContent()).resolves.toContain(id);
    await page.goto(`${base}/ui/sessions/${id}`);
    await expect(page.locator('#analysis').textContent()).resolves.toContain('oom-killed');
    expect((await page.locator('.diff-added').allTextContents()).join('\n')).toMatch(/memory/);
    await expect(page.locator('#audit').textContent()).resolves.toContain('audit:read');
    await context.close();
  });

  it('produced the screenshots', () => {
    for (const name of ['login', 'sessions', 'session-pending', 'session-verified', 'stale-plan']) {
      const png = readFileSync(join(SHOTS, `${name}.png`));
      expect(png.subarray(1, 4).toString(), name).toBe('PNG');
      expect(png.length).toBeGreaterThan(10_000);
    }
  });
});
