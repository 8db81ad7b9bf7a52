/** The Grafana dashboard queries only metrics the coordinator exports, and shows every twinfed metric (no drift). */
import fs from 'node:fs';
import path from 'node:path';
import { CoordinatorMetrics } from '@twinfed/coordinator';
import { repoRoot } from '../support/paths';
import { dashboardTargets, metricNames } from './grafana-dashboard';

const DASHBOARD = path.join(repoRoot(), 'docker/grafana/twinfed-dashboard.json');

/** The series names the coordinator exports, read from its registry (a histogram's `_bucket`, `_sum` and `_count`). */
function exportedSeries(): { series: Set<string>; families: string[] } {
  const metrics = new CoordinatorMetrics();
  metrics.collectProcessMetrics();
  const series = new Set<string>();
  const families: string[] = [];
  for (const m of metrics.registry.getMetricsAsArray()) {
    families.push(m.name);
    const suffixes = String(m.type) === 'histogram' ? ['_bucket', '_sum', '_count'] : [''];
    for (const s of suffixes) series.add(m.name + s);
  }
  return { series, families };
}

describe('docker/grafana/twinfed-dashboard.json', () => {
  const dashboard = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8')) as Parameters<typeof dashboardTargets>[0];
  const targets = dashboardTargets(dashboard);
  const { series, families } = exportedSeries();

  test('every metric a panel queries is one the coordinator exports', () => {
    expect(targets.length).toBeGreaterThan(10);
    const unknown = targets.flatMap((t) =>
      metricNames(t.expr)
        .filter((n) => !series.has(n))
        .map((n) => `${t.panel}: ${n}`),
    );
    expect(unknown).toEqual([]);
  });

  test('every twinfed metric is on the dashboard, and every query reads the datasource variable', () => {
    const queried = new Set(
      targets.flatMap((t) => metricNames(t.expr)).map((n) => n.replace(/_(bucket|sum|count)$/, '')),
    );
    expect(families.filter((f) => f.startsWith('twinfed_') && !queried.has(f))).toEqual([]);
    expect(targets.filter((t) => t.uid !== '${datasource}').map((t) => t.panel)).toEqual([]);
  });
});

describe('metricNames', () => {
  test('keeps metric names, drops functions, keywords, labels, strings and ranges', () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (le, phase) (rate(twinfed_secagg_phase_seconds_bucket{phase="unmasking"}[5m])))',
      ),
    ).toEqual(['twinfed_secagg_phase_seconds_bucket']);
    expect(metricNames('sum without (instance) (rate(a_total[1m])) / on (job) group_left b and c offset 5m')).toEqual([
      'a_total',
      'b',
      'c',
    ]);
    expect(metricNames('rate(process_cpu_seconds_total{job="twinfed"}[$__rate_interval])')).toEqual([
      'process_cpu_seconds_total',
    ]);
  });
});
