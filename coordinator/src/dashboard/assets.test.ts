import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathPatterns } from '@twinfed/shared';
import { apiPathsScript } from './assets';

describe('dashboard assets', () => {
  test('app.js holds no API path of its own: it builds them from api-paths.js', () => {
    const app = readFileSync(path.join(__dirname, 'static', 'app.js'), 'utf8');
    expect(app).not.toMatch(/['"`]\/v1\//);
    expect(readFileSync(path.join(__dirname, 'static', 'index.html'), 'utf8')).toContain(
      'src="/dashboard/api-paths.js"',
    );
  });

  test("api-paths.js carries the contract's path patterns", () => {
    const script = apiPathsScript();
    const json = /window\.TWINFED_PATHS = (\{.*\});/.exec(script)?.[1];
    expect(JSON.parse(json ?? 'null')).toEqual(pathPatterns());
  });
});
