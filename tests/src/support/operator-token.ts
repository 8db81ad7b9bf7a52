import fs from 'node:fs';
import path from 'node:path';

/** The file a coordinator writes its first operator token to, in its data dir (mode 0600). */
export const OPERATOR_TOKEN_FILE = 'operator.token';

/** The operator token a coordinator created in `dataDir` on its first start (what `twinfed --data-dir` reads). */
export function readOperatorToken(dataDir: string): string {
  return fs.readFileSync(path.join(dataDir, OPERATOR_TOKEN_FILE), 'utf8').trim();
}
