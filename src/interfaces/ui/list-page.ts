/**
 * The sessions list: pending first (they wait for a person), then everything else, newest first;
 * filters by namespace, category and status; server-side pages of 50 through a keyset cursor
 * (`SessionStore.list` with `after`), so page 200 costs what page 1 does.
 */
import { CATEGORIES, InvalidInputError } from '../../domain/index.js';
import {
  SESSION_STATES,
  sessionNamespace,
  type SessionRecord,
  type SessionState,
  type SessionStore,
} from '../../sessions/store.js';
import { type Html, html } from './html.js';
import { badge, page, when } from './layout.js';
import type { UiSession } from './security.js';

export const PAGE_SIZE = 50;

/** Two runs: pending sessions, then every other state (any state added later included). */
const RUNS: readonly (readonly SessionState[])[] = [
  ['pending'],
  SESSION_STATES.filter((state) => state !== 'pending'),
];

export interface ListFilters {
  readonly namespace?: string;
  readonly category?: string;
  readonly status?: SessionState;
}

interface Cursor {
  /** Which run the page ended in (0 pending, 1 the rest; 0 when a status filter is set). */
  readonly run: number;
  readonly createdAt: string;
  readonly id: string;
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.run, cursor.createdAt, cursor.id])).toString('base64url');
}

function decodeCursor(text: string): Cursor {
  try {
    const [run, createdAt, id] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown[];
    if ((run === 0 || run === 1) && typeof createdAt === 'string' && typeof id === 'string')
      return { run, createdAt, id };
  } catch {
    // fall through
  }
  throw new InvalidInputError([
    { path: 'cursor', message: 'not a cursor of this list; start from the first page' },
  ]);
}

function field(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  const text = Array.isArray(value) ? value[0] : value;
  return typeof text === 'string' && text.trim() !== '' ? text.trim() : undefined;
}

/** The filters and cursor of a list URL; bad values are named. */
export function parseListQuery(query: Record<string, unknown>): { filters: ListFilters; cursor?: Cursor } {
  const namespace = field(query, 'namespace');
  const category = field(query, 'category');
  const status = field(query, 'status');
  const cursor = field(query, 'cursor');
  const issues = [];
  if (namespace !== undefined && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace))
    issues.push({ path: 'namespace', message: 'a Kubernetes namespace name' });
  if (category !== undefined && !(CATEGORIES as readonly string[]).includes(category))
    issues.push({ path: 'category', message: `one of ${CATEGORIES.join(', ')}` });
  if (status !== undefined && !(SESSION_STATES as readonly string[]).includes(status))
    issues.push({ path: 'status', message: `one of ${SESSION_STATES.join(', ')}` });
  if (issues.length > 0) throw new InvalidInputError(issues);
  return {
    filters: {
      ...(namespace ? { namespace } : {}),
      ...(category ? { category } : {}),
      ...(status ? { status: status as SessionState } : {}),
    },
    ...(cursor ? { cursor: decodeCursor(cursor) } : {}),
  };
}

export interface ListPage {
  readonly sessions: readonly SessionRecord[];
  /** The cursor of the next page, when there is one. */
  readonly next?: string;
}

/** One page: at most `size` sessions, and whether more follow (one extra row is read to know). */
export async function listPage(
  store: SessionStore,
  filters: ListFilters,
  cursor: Cursor | undefined,
  size = PAGE_SIZE,
): Promise<ListPage> {
  const runs = filters.status ? [[filters.status]] : RUNS;
  const rows: Array<{ session: SessionRecord; run: number }> = [];
  for (let run = cursor?.run ?? 0; run < runs.length && rows.length <= size; run++) {
    const after = cursor && run === cursor.run ? { createdAt: cursor.createdAt, id: cursor.id } : undefined;
    const found = await store.list({
      states: runs[run]!,
      ...(filters.namespace ? { namespace: filters.namespace } : {}),
      ...(filters.category ? { category: filters.category } : {}),
      ...(after ? { after } : {}),
      limit: size + 1 - rows.length,
    });
    rows.push(...found.map((session) => ({ session, run })));
  }
  const shown = rows.slice(0, size);
  const last = shown.at(-1);
  return {
    sessions: shown.map((row) => row.session),
    ...(rows.length > size && last
      ? { next: encodeCursor({ run: last.run, createdAt: last.session.createdAt, id: last.session.id }) }
      : {}),
  };
}

function listUrl(filters: ListFilters, cursor?: string): string {
  const params = new URLSearchParams();
  if (filters.namespace) params.set('namespace', filters.namespace);
  if (filters.category) params.set('category', filters.category);
  if (filters.status) params.set('status', filters.status);
  if (cursor) params.set('cursor', cursor);
  const query = params.toString();
  return `/ui/sessions${query ? `?${query}` : ''}`;
}

function options(values: readonly string[], selected: string | undefined, anyLabel: string): Html {
  return html`<option value="">${anyLabel}</option>
    ${values.map(
      (value) => html`<option value="${value}" ${value === selected ? html`selected` : ''}>${value}</option>`,
    )}`;
}

function row(session: SessionRecord): Html {
  const analysis = session.output?.analysis;
  const subject = analysis?.subject ?? session.input.target;
  const risk = session.output?.remediation.risk;
  return html`<tr class="${session.state === 'pending' ? 'pending' : ''}">
    <td>${badge('state', session.state)}</td>
    <td><a href="${`/ui/sessions/${encodeURIComponent(session.id)}`}">${session.id}</a></td>
    <td>${when(session.createdAt)}</td>
    <td>${sessionNamespace(session) ?? html`<span class="muted">—</span>`}</td>
    <td>${subject ? `${subject.kind}/${subject.name}` : ''}</td>
    <td>${analysis?.category ?? html`<span class="muted">${session.phase}</span>`}</td>
    <td>${analysis ? `${Math.round(analysis.confidence * 100)}%` : ''}</td>
    <td>${risk ? badge('risk', risk) : ''}</td>
    <td>${session.input.issue.length > 90 ? `${session.input.issue.slice(0, 90)}…` : session.input.issue}</td>
  </tr>`;
}

export function renderListPage(
  session: UiSession,
  filters: ListFilters,
  result: ListPage,
  isFirst: boolean,
): Html {
  return page(
    { title: 'Sessions', session },
    html`<h1>Sessions</h1>
      <form class="filters" method="get" action="/ui/sessions">
        <div>
          <label for="namespace">Namespace</label>
          <input
            type="text"
            id="namespace"
            name="namespace"
            value="${filters.namespace ?? ''}"
            placeholder="any"
          />
        </div>
        <div>
          <label for="category">Category</label>
          <select id="category" name="category">
            ${options(CATEGORIES, filters.category, 'any')}
          </select>
        </div>
        <div>
          <label for="status">Status</label>
          <select id="status" name="status">
            ${options(SESSION_STATES, filters.status, 'any (pending first)')}
          </select>
        </div>
        <div><button type="submit">Filter</button> <a href="/ui/sessions">Clear</a></div>
      </form>
      ${
        result.sessions.length === 0
          ? html`<p class="muted">No sessions${isFirst ? '' : ' on this page'} match.</p>`
          : html`<table id="sessions">
              <thead>
                <tr>
                  <th>Status</th>
                  <th>Session</th>
                  <th>Created</th>
                  <th>Namespace</th>
                  <th>Subject</th>
                  <th>Category</th>
                  <th>Confidence</th>
                  <th>Risk</th>
                  <th>Issue</th>
                </tr>
              </thead>
              <tbody>
                ${result.sessions.map(row)}
              </tbody>
            </table>`
      }
      <nav class="pages">
        ${isFirst ? '' : html`<a href="${listUrl(filters)}">First page</a>`}
        ${result.next ? html`<a rel="next" href="${listUrl(filters, result.next)}">Next page →</a>` : ''}
      </nav>`,
  );
}
