/**
 * Routing (pure): which mode and policy apply to an alert, by its labels — `alerts.routes` in
 * order, the first whose `match` (equal) and `matchRe` (anchored regular expression) all hold,
 * else `alerts.default`. A label the alert lacks matches as the empty string, as in Alertmanager.
 */
import type { AlertsSection } from '../config/alerts.js';
import type { Mode } from '../domain/index.js';

export interface RouteDecision {
  readonly mode: Mode;
  readonly policy?: string;
  /** The index of the route that matched (absent: the default). */
  readonly route?: number;
}

export function routeAlert(section: AlertsSection, labels: Readonly<Record<string, string>>): RouteDecision {
  const index = section.routes.findIndex(
    (route) =>
      Object.entries(route.match).every(([label, value]) => (labels[label] ?? '') === value) &&
      Object.entries(route.matchRe).every(([label, source]) =>
        new RegExp(`^(?:${source})$`).test(labels[label] ?? ''),
      ),
  );
  const chosen = index >= 0 ? section.routes[index]! : section.default;
  return {
    mode: chosen.mode,
    ...(chosen.policy === undefined ? {} : { policy: chosen.policy }),
    ...(index >= 0 ? { route: index } : {}),
  };
}
