/**
 * The page's only two static files: one style sheet and one script, served from /ui/assets/ so
 * that the Content-Security-Policy can forbid every inline style and script. The script is
 * progressive: it follows a session's live updates; every page reads fully without it.
 */
import { createHash } from 'node:crypto';

const CSS = String.raw`
:root { --fg: #1d2330; --muted: #5d6678; --line: #d8dce5; --bg: #f7f8fa; --card: #fff;
  --ok: #137a3a; --warn: #9a5b00; --bad: #b3261e; --info: #1f5fbf; --add: #e6f6ea; --del: #fde8e7; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header.top { display: flex; align-items: center; gap: 1.5rem; padding: .6rem 1.5rem; background: #1d2330; color: #fff; }
header.top a { color: #fff; text-decoration: none; }
header.top .brand { font-weight: 700; letter-spacing: .02em; }
header.top .who { margin-left: auto; font-size: .9em; opacity: .85; }
header.top form { margin: 0; }
header.top button { background: transparent; color: #fff; border: 1px solid #fff6; }
main { max-width: 1200px; margin: 0 auto; padding: 1.2rem 1.5rem 3rem; }
h1 { font-size: 1.45rem; margin: .2rem 0 1rem; } h2 { font-size: 1.15rem; margin: 1.6rem 0 .6rem; }
h3 { font-size: 1rem; margin: 0 0 .4rem; }
.card > h2:first-child { margin-top: 0; }
section.card, article.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.2rem; margin: 0 0 1rem; }
table { border-collapse: collapse; width: 100%; background: var(--card); }
th, td { text-align: left; padding: .45rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .85em; color: var(--muted); font-weight: 600; }
tr.pending td { background: #fff8e6; }
a { color: var(--info); }
.muted { color: var(--muted); }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 999px; font-size: .8em; font-weight: 600; border: 1px solid currentColor; white-space: nowrap; }
.state-pending, .risk-medium, .decision-await-approval { color: var(--warn); }
.state-verified, .risk-low, .decision-execute, .status-verified { color: var(--ok); }
.state-failed, .state-rolled-back, .state-rejected, .risk-high, .risk-critical, .decision-denied, .status-failed, .status-rolled-back { color: var(--bad); }
.state-executing, .state-approved, .state-analyzed, .decision-advice { color: var(--info); }
form.filters { display: flex; flex-wrap: wrap; gap: .6rem; align-items: end; margin-bottom: 1rem; }
label { display: block; font-size: .85em; color: var(--muted); }
input, select, textarea, button { font: inherit; }
input[type=text], input[type=password], select, textarea { display: block; padding: .35rem .5rem; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
textarea { width: 100%; min-height: 4rem; }
button { padding: .4rem .9rem; border-radius: 6px; border: 1px solid var(--line); background: #fff; cursor: pointer; }
button.primary { background: var(--ok); border-color: var(--ok); color: #fff; }
button.danger { background: #fff; border-color: var(--bad); color: var(--bad); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
pre { margin: .3rem 0; padding: .6rem .8rem; background: #f1f3f7; border-radius: 6px; overflow-x: auto; font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; white-space: pre; }
pre.wrap { white-space: pre-wrap; }
figure.diff { margin: .5rem 0; }
figure.diff figcaption { font-size: .85em; color: var(--muted); }
.diff-added { background: var(--add); display: block; } .diff-removed { background: var(--del); display: block; }
.diff-hunk { color: var(--muted); display: block; } .diff-context { display: block; }
.notice, .refused { padding: .6rem .9rem; border-radius: 6px; margin: 0 0 1rem; }
.notice { background: #eef4ff; border: 1px solid #c9dafc; }
.refused { background: #fdecea; border: 1px solid #f3b7b1; color: #7a1710; }
.actions-row { display: flex; gap: 1rem; flex-wrap: wrap; align-items: start; }
.actions-row form { flex: 1 1 320px; }
ol.timeline { margin: 0; padding-left: 1.2rem; } ol.timeline li { margin: .2rem 0; }
table.audit td { font-size: .88em; }
code.hash { font-size: .85em; }
nav.pages { display: flex; gap: 1rem; margin-top: 1rem; }
.login { max-width: 420px; margin: 4rem auto; }
.login input { width: 100%; }
.live-dot::before { content: "●"; color: var(--ok); margin-right: .3rem; }
`;

const JS = String.raw`
"use strict";
(function () {
  var live = document.querySelector("[data-events]");
  if (!live || typeof EventSource === "undefined") return;
  var source = new EventSource(live.getAttribute("data-events"));
  var refreshing = false;
  var again = false;
  function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    fetch(window.location.pathname, { headers: { accept: "text/html" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (text) {
        if (!text) return;
        var next = new DOMParser().parseFromString(text, "text/html");
        document.querySelectorAll("[data-live]").forEach(function (element) {
          var fresh = next.getElementById(element.id);
          if (fresh) element.replaceWith(document.importNode(fresh, true));
          else element.remove();
        });
      })
      .catch(function () {})
      .then(function () {
        refreshing = false;
        if (again) { again = false; refresh(); }
      });
  }
  var status = document.getElementById("live-status");
  source.addEventListener("open", function () { if (status) status.className = "live-dot"; });
  source.addEventListener("session", refresh);
  source.addEventListener("end", function () { source.close(); if (status) status.className = ""; refresh(); });
  source.addEventListener("error", function () { if (status) status.className = ""; });
})();
`;

function asset(body: string, type: string) {
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"` };
}

export const ASSETS: Readonly<Record<string, { body: string; type: string; etag: string }>> = {
  'ui.css': asset(CSS, 'text/css; charset=utf-8'),
  'ui.js': asset(JS, 'text/javascript; charset=utf-8'),
};
