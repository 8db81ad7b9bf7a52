import type { Migration } from './types';

/**
 * Studies: every federation belongs to one, and a researcher token reads only the federations of its studies. The
 * `default` study is created here and receives every existing federation and every existing researcher token, so
 * nobody sees less than before. SQLite cannot add a NOT NULL column with a foreign key to a table that has rows, so
 * `federations.study_id` is nullable in the column and required by triggers.
 */
export const migration008: Migration = {
  version: 8,
  name: 'studies',
  sql: `
CREATE TABLE studies (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  description TEXT,
  created_at TEXT NOT NULL
);
INSERT INTO studies (id, name, description, created_at) VALUES (
  'default',
  'default',
  'Federations created without a study, and every federation created before studies existed.',
  strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
);

ALTER TABLE federations ADD COLUMN study_id TEXT REFERENCES studies (id);
UPDATE federations SET study_id = 'default';
CREATE INDEX federations_study_id ON federations (study_id);
CREATE TRIGGER federations_study_required_on_insert BEFORE INSERT ON federations WHEN NEW.study_id IS NULL
BEGIN SELECT RAISE(ABORT, 'federations.study_id is required'); END;
CREATE TRIGGER federations_study_required_on_update BEFORE UPDATE OF study_id ON federations WHEN NEW.study_id IS NULL
BEGIN SELECT RAISE(ABORT, 'federations.study_id is required'); END;

CREATE TABLE api_token_studies (
  token_id TEXT NOT NULL REFERENCES api_tokens (id),
  study_id TEXT NOT NULL REFERENCES studies (id),
  PRIMARY KEY (token_id, study_id)
) WITHOUT ROWID;
INSERT INTO api_token_studies (token_id, study_id) SELECT id, 'default' FROM api_tokens WHERE role = 'researcher';
`,
};
