/** The routes of the page: sign-in and out, the list, a session, approve, reject, live updates. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ChainVerification } from '../../audit/recorder.js';
import { errorMapping, InvalidInputError, KubemendError } from '../../domain/index.js';
import { SessionIdSchema } from '../../domain/schemas.js';
import type { ActionPreview } from '../../service/remediation-service.js';
import { describeFailure } from '../failure.js';
import { html } from './html.js';
import { page } from './layout.js';
import { listPage, parseListQuery, renderListPage } from './list-page.js';
import type { UiContext } from './plugin.js';
import { checkSameOrigin, type UiSession } from './security.js';
import { renderSessionPage, type SessionView } from './session-page.js';

const PREVIEW_TIMEOUT_MS = 4_000;
const CHAIN_CACHE_MS = 30_000;
const NOTE_MAX = 2_000;

type Form = Record<string, unknown>;

function sessionIdOf(request: FastifyRequest): string {
  const parsed = SessionIdSchema.safeParse((request.params as { id?: string }).id);
  if (!parsed.success) throw new KubemendError('session-not-found', 'no such session');
  return parsed.data;
}

function text(form: Form | undefined, name: string, max: number): string | undefined {
  const value = form?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  if (typeof first !== 'string' || first.trim() === '') return undefined;
  if (first.length > max) throw new InvalidInputError([{ path: name, message: `at most ${max} characters` }]);
  return first.trim();
}

function list(form: Form | undefined, name: string): string[] | undefined {
  const value = form?.[name];
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string');
}

/** Only a path of this page, never another site. */
function safeNext(next: unknown): string {
  return typeof next === 'string' && next.startsWith('/ui/') && !next.startsWith('//') && !next.includes('\\')
    ? next
    : '/ui/sessions';
}

function sendPage(reply: FastifyReply, status: number, markup: { value: string }): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(markup.value);
}

function loginPage(
  reply: FastifyReply,
  status: number,
  options: { next?: string; error?: string; notice?: string },
) {
  return sendPage(
    reply,
    status,
    page(
      { title: 'Sign in', error: options.error, notice: options.notice },
      html`<section class="card login">
        <h1>Sign in</h1>
        <form method="post" action="/ui/login">
          <input type="hidden" name="next" value="${safeNext(options.next)}" />
          <label for="token">Bearer token (the same token the API takes)</label>
          <input type="password" id="token" name="token" autocomplete="off" required />
          <p><button type="submit" class="primary" id="sign-in">Sign in</button></p>
        </form>
        <p class="muted">The token is checked once and never stored; the page then uses a session cookie.</p>
      </section>`,
    ),
  );
}

export function registerPages(app: FastifyInstance, ctx: UiContext): void {
  const { service, authenticator, configuration } = ctx.options;
  // The whole chain is verified at most every 30 s, and again (at most every 2 s) when the page
  // lists records newer than the last verification covered; the page says when it was verified.
  let chain: { at: number; result: Promise<ChainVerification> } | undefined;
  const chainStatus = async (newest: number): Promise<{ verification: ChainVerification; at: number }> => {
    const age = chain ? Date.now() - chain.at : Infinity;
    const covered = chain
      ? await chain.result.then(
          (r) => r.records,
          () => 0,
        )
      : 0;
    if (!chain || age > CHAIN_CACHE_MS || (covered < newest && age > 2_000)) {
      const result = service.auditRecorder.verify();
      chain = { at: Date.now(), result };
      result.catch(() => (chain = undefined));
    }
    return { verification: await chain.result, at: chain.at };
  };
  const preview = async (sessionId: string, actionId: string): Promise<ActionPreview> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<ActionPreview>((resolve) => {
      timer = setTimeout(
        () =>
          resolve({
            kind: 'unavailable',
            reason: `the cluster did not answer within ${PREVIEW_TIMEOUT_MS / 1000} s`,
          }),
        PREVIEW_TIMEOUT_MS,
      );
    });
    try {
      return await Promise.race([service.preview(sessionId, actionId), late]);
    } catch (error) {
      return { kind: 'unavailable', reason: describeFailure(error).message };
    } finally {
      clearTimeout(timer);
    }
  };
  const view = async (
    id: string,
    reader: UiSession,
    extra: Partial<SessionView> = {},
  ): Promise<SessionView> => {
    const session = await service.session(id);
    if (!session) throw new KubemendError('session-not-found', `session ${id} not found`);
    const actions = session.output?.remediation.actions ?? [];
    const previews = new Map(
      await Promise.all(actions.map(async (a) => [a.id, await preview(id, a.id)] as const)),
    );
    const audit = reader.principal.scopes.has('audit:read')
      ? await (async () => {
          const records = await service.auditRecorder.list({ sessionId: id, limit: 1_000 });
          const { verification, at } = await chainStatus(Math.max(0, ...records.map((r) => r.sequence)));
          return { records, chain: verification, verifiedAt: new Date(at).toISOString() };
        })()
      : undefined;
    return { session, previews, ...(audit ? { audit } : {}), ...extra };
  };

  app.get('/', async (_request, reply) => reply.redirect('/ui/sessions', 303));

  app.get('/login', async (request, reply) => {
    const query = request.query as { next?: string; expired?: string };
    return loginPage(reply, 200, {
      next: query.next,
      ...(query.expired ? { notice: 'Your sign-in has expired. Sign in again.' } : {}),
    });
  });

  app.post('/login', async (request, reply) => {
    checkSameOrigin(request, configuration.server.allowedOrigins);
    const form = request.body as Form | undefined;
    const token = text(form, 'token', 8_192);
    const next = text(form, 'next', 2_048);
    let principal;
    try {
      principal = await authenticator.authenticate(`Bearer ${token ?? ''}`);
    } catch (error) {
      const failure = describeFailure(error);
      if (failure.code !== 'not-authenticated') throw error;
      return loginPage(reply, 401, { next, error: 'That token is not valid.' });
    }
    if (!principal.scopes.has('remediate:analyze'))
      return loginPage(reply, 403, {
        next,
        error: `${principal.name} lacks the remediate:analyze scope needed to read sessions.`,
      });
    ctx.signIn(request, reply, ctx.sessions.create(principal));
    request.log.info({ principal: principal.name }, 'ui sign-in');
    return reply.redirect(safeNext(next), 303);
  });

  app.post('/logout', async (request, reply) => {
    const session = ctx.writer(request, reply, 'remediate:analyze');
    ctx.signOut(reply, session);
    return reply.redirect('/ui/login', 303);
  });

  app.get('/sessions', async (request, reply) => {
    const reader = ctx.reader(request, reply, 'remediate:analyze');
    const { filters, cursor } = parseListQuery(request.query as Record<string, unknown>);
    const result = await listPage(service.sessionStore, filters, cursor);
    return sendPage(reply, 200, renderListPage(reader, filters, result, cursor === undefined));
  });

  app.get('/sessions/:id', async (request, reply) => {
    const reader = ctx.reader(request, reply, 'remediate:analyze');
    return sendPage(reply, 200, renderSessionPage(await view(sessionIdOf(request), reader), reader));
  });

  /** A refused decision: the session page as it is now, with the refusal at the top. */
  const refused = async (reply: FastifyReply, id: string, reader: UiSession, error: unknown) => {
    const failure = describeFailure(error);
    if (failure.code === 'internal') throw error;
    const message =
      failure.code === 'plan-changed'
        ? 'Refused: the plan changed after this page was rendered, so your approval cannot apply to it. Review the plan below and approve again if it is right.'
        : `Refused: ${failure.message}`;
    return sendPage(
      reply,
      errorMapping(failure.code).http,
      renderSessionPage(await view(id, reader, { error: message }), reader),
    );
  };

  app.post('/sessions/:id/approve', async (request, reply) => {
    const reader = ctx.writer(request, reply, 'remediate:execute');
    const id = sessionIdOf(request);
    const form = request.body as Form | undefined;
    const planHash = text(form, 'planHash', 128);
    try {
      if (!planHash)
        throw new InvalidInputError([{ path: 'planHash', message: 'the form carries no plan hash' }]);
      // The form always names what it approves: no ticked action approves nothing, never everything.
      const actionIds = list(form, 'actionIds') ?? [];
      if (actionIds.length === 0)
        throw new InvalidInputError([{ path: 'actionIds', message: 'tick at least one action to approve' }]);
      await service.startApproval(id, {
        approver: reader.principal.name,
        planHash,
        actionIds,
        ...(text(form, 'note', NOTE_MAX) ? { note: text(form, 'note', NOTE_MAX)! } : {}),
      });
    } catch (error) {
      return refused(reply, id, reader, error);
    }
    return reply.redirect(`/ui/sessions/${encodeURIComponent(id)}`, 303);
  });

  app.post('/sessions/:id/reject', async (request, reply) => {
    const reader = ctx.writer(request, reply, 'remediate:execute');
    const id = sessionIdOf(request);
    const note = text(request.body as Form | undefined, 'note', NOTE_MAX);
    try {
      await service.reject(id, { approver: reader.principal.name, ...(note ? { reason: note } : {}) });
    } catch (error) {
      return refused(reply, id, reader, error);
    }
    return reply.redirect(`/ui/sessions/${encodeURIComponent(id)}`, 303);
  });

  app.get('/sessions/:id/events', async (request, reply) => {
    const reader = ctx.reader(request, reply, 'remediate:analyze');
    const id = sessionIdOf(request);
    if (!ctx.streams.admits(reader.id))
      throw new KubemendError('rate-limited', 'too many live-update streams are open; reload the page later');
    ctx.streams.open(request, reply, reader.id, {
      load: () => service.session(id),
      signedIn: () => ctx.sessions.lookup(reader.id).status === 'valid',
    });
    return reply;
  });
}
