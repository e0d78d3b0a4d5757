/** The page shell shared by every page: head (one style sheet, one script), top bar, notices. */
import { type Html, html } from './html.js';
import type { UiSession } from './security.js';

export interface PageOptions {
  readonly title: string;
  readonly session?: UiSession;
  /** A refusal or problem to show at the top (role=alert). */
  readonly error?: string;
  readonly notice?: string;
  /** Without JavaScript, reload every few seconds (a session that is executing). */
  readonly refreshWithoutScript?: boolean;
}

export function page(options: PageOptions, body: Html): Html {
  const { session } = options;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>${options.title} · kubemend</title>
        <link rel="stylesheet" href="/ui/assets/ui.css" />
        <script src="/ui/assets/ui.js" defer></script>
        ${options.refreshWithoutScript ? html`<noscript><meta http-equiv="refresh" content="5" /></noscript>` : ''}
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/ui/sessions">kubemend</a>
          ${session ? html`<a href="/ui/sessions">Sessions</a>` : ''}
          ${
            session
              ? html`<span class="who">signed in as <strong>${session.principal.name}</strong></span>
                  <form method="post" action="/ui/logout">
                    <input type="hidden" name="_csrf" value="${session.csrf}" />
                    <button type="submit">Sign out</button>
                  </form>`
              : ''
          }
        </header>
        <main>
          ${options.error ? html`<p class="refused" role="alert" id="refusal">${options.error}</p>` : ''}
          ${options.notice ? html`<p class="notice" role="status">${options.notice}</p>` : ''} ${body}
        </main>
      </body>
    </html> `;
}

/** `<span class="badge state-…">` for a session state, action decision, risk or result status. */
export function badge(kind: 'state' | 'decision' | 'risk' | 'status', value: string): Html {
  return html`<span class="${`badge ${kind}-${value.replace(/[^a-z-]/g, '')}`}">${value}</span>`;
}

/** A timestamp as the page shows it (UTC, to the second) in a `<time>` element. */
export function when(iso: string | undefined): Html {
  if (!iso) return html``;
  return html`<time datetime="${iso}">${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</time>`;
}
