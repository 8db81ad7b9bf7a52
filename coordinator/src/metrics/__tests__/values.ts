import type { CoordinatorMetrics } from '../registry';

/**
 * The current value of one series of the registry: `name` is a metric's name or, for a histogram, one of its series
 * (`…_count`, `…_sum`, `…_bucket`); every label given must match. 0 when no series matches yet.
 */
export async function metricValue(
  metrics: CoordinatorMetrics,
  name: string,
  labels: Record<string, string | number> = {},
): Promise<number> {
  const family = name.replace(/_(count|sum|bucket)$/, '');
  const metric = metrics.registry.getSingleMetric(metrics.registry.getSingleMetric(name) ? name : family);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const found = values.find(
    (v) =>
      ((v as { metricName?: string }).metricName ?? family) === name &&
      Object.entries(labels).every(([k, want]) => String(v.labels[k]) === String(want)),
  );
  return found?.value ?? 0;
}
