import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** Registers beforeEach/afterEach hooks: a fresh temp directory `twinfed-<prefix>-…` for every test, removed after it. */
export function tempDirEach(prefix: string): { readonly path: string } {
  let dir = '';
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `twinfed-${prefix}-`));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    get path() {
      return dir;
    },
  };
}
