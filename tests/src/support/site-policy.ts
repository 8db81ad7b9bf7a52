import fs from 'node:fs';
import path from 'node:path';
import { POLICY_FILE, type SitePolicy } from '@twinfed/site-client';

/**
 * Writes a site's policy (`<dataDir>/policy.json`, docs/site-policy.md), as the hospital would. `{ autoApprove: true }`
 * approves every plan within its rules without a person; the approval is recorded in the site's audit chain.
 */
export function writeSitePolicy(dataDir: string, policy: SitePolicy): void {
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(path.join(dataDir, POLICY_FILE), `${JSON.stringify(policy, null, 2)}\n`);
}
