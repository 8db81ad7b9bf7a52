import fs from 'node:fs';
import path from 'node:path';

/** The repository root (found from this file, in src/ under ts-jest or in dist/). */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'tsconfig.base.json')))
      return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('twinfed repository root not found');
    dir = up;
  }
}

/** The compiled operator CLI (`twinfed`). */
export function coordinatorCli(): string {
  return path.join(repoRoot(), 'coordinator', 'dist', 'cli', 'main.js');
}

/** The compiled site CLI (`twinfed-site`). */
export function siteCli(): string {
  return path.join(repoRoot(), 'site-client', 'dist', 'cli', 'main.js');
}
