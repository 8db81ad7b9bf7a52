/**
 * After `npm ci` alone, `npx twinfed` and `npx twinfed-site` run the local CLIs: npm links each workspace's `bin`
 * into node_modules/.bin at install time, so the bin must be a committed file (not a build output that does not
 * exist yet), and the root `prepare` script builds what it loads. CI runs this on a fresh clone right after `npm ci`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../support/paths';

const root = repoRoot();
const CLIS = [
  { pkg: 'coordinator', bin: 'twinfed', banner: /Usage: twinfed/ },
  { pkg: 'site-client', bin: 'twinfed-site', banner: /Usage: twinfed-site/ },
];

function tracked(file: string): boolean {
  return execFileSync('git', ['ls-files', '--', file], { cwd: root, encoding: 'utf8' }).trim() !== '';
}

describe('the CLIs after npm ci', () => {
  test.each(CLIS)('$bin is a committed file, outside dist/, linked into node_modules/.bin', ({ pkg, bin }) => {
    const manifest = JSON.parse(fs.readFileSync(path.join(root, pkg, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    const target = manifest.bin[bin]!;
    expect(target.startsWith('dist/')).toBe(false);
    expect(tracked(path.join(pkg, target))).toBe(true);
    expect(fs.realpathSync(path.join(root, 'node_modules', '.bin', bin))).toBe(
      fs.realpathSync(path.join(root, pkg, target)),
    );
  });

  test('the root prepare script builds during npm ci', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(manifest.scripts.prepare).toBe('npm run build');
  });

  test.each(CLIS)('npx --no $bin --help runs the local CLI and never the registry', ({ bin, banner }) => {
    // --no: npx must not offer to download a package of that name; it has to find the local link.
    const r = spawnSync('npx', ['--no', '--', bin, '--help'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, npm_config_offline: 'true' },
    });
    expect(r.stderr).not.toMatch(/could not determine executable|npm error/);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(banner);
  });
});
