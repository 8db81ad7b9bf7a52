import type { Migration } from './types';

/** Population reports: one per (model version, site), already k-suppressed at the site. */
export const migration002: Migration = {
  version: 2,
  name: 'population-reports',
  sql: `
CREATE TABLE population_reports (
  version_id TEXT NOT NULL REFERENCES model_versions (id),
  federation_id TEXT NOT NULL,
  site_id TEXT NOT NULL,
  report TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (version_id, site_id)
);
CREATE INDEX population_reports_federation ON population_reports (federation_id);
`,
};
