/** What the Grafana dashboard under docker/grafana queries: its PromQL expressions and the metric names in them. */

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset']);
const OPERATORS = new Set(['and', 'or', 'unless']);

interface Panel {
  title?: string;
  targets?: Array<{ expr?: string; datasource?: { uid?: string } }>;
  panels?: Panel[];
}

/** Every target of every panel (rows' nested panels included): its panel title, expression and datasource uid. */
export function dashboardTargets(dashboard: {
  panels?: Panel[];
}): Array<{ panel: string; expr: string; uid?: string }> {
  const out: Array<{ panel: string; expr: string; uid?: string }> = [];
  const walk = (panels: Panel[] | undefined): void => {
    for (const p of panels ?? []) {
      for (const t of p.targets ?? [])
        out.push({ panel: p.title ?? '', expr: t.expr ?? '', ...(t.datasource?.uid ? { uid: t.datasource.uid } : {}) });
      walk(p.panels);
    }
  };
  walk(dashboard.panels);
  return out;
}

/**
 * The metric names a PromQL expression selects: identifiers that are not functions (followed by `(`), keywords,
 * label names (inside `{…}`, `by (…)`, `without (…)`), strings, ranges, numbers or durations.
 */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of bare.matchAll(/(?<![A-Za-z0-9_:.])[A-Za-z_:][A-Za-z0-9_:]*(?=\s*(\(?))/g)) {
    if (m[1] === '(' || KEYWORDS.has(m[0]) || OPERATORS.has(m[0])) continue;
    names.add(m[0]);
  }
  return [...names];
}
