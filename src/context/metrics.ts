/** Metrics in the request: a number, a quantity string, or samples `[{t, v}]`, as one series each. */
import { asNumber, at, parseQuantity } from '../domain/index.js';
import type { MetricSeries } from './model.js';

export function normalizeMetrics(metrics: Record<string, unknown> | undefined): Map<string, MetricSeries> {
  const out = new Map<string, MetricSeries>();
  if (!metrics) return out;
  for (const [name, value] of Object.entries(metrics)) {
    if (typeof value === 'number') {
      out.set(name, { name, latest: value, max: value, samples: 1 });
    } else if (typeof value === 'string') {
      const parsed = parseQuantity(value);
      out.set(name, { name, latest: parsed, max: parsed, text: value, samples: 1 });
    } else if (Array.isArray(value)) {
      const values = value
        .map((sample) => asNumber(at(sample, 'v')))
        .filter((v): v is number => v !== undefined);
      out.set(name, {
        name,
        latest: values.at(-1),
        max: values.length > 0 ? Math.max(...values) : undefined,
        samples: values.length,
      });
    }
  }
  return out;
}
