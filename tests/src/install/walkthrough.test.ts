/**
 * The README's by-hand walkthrough, run as a newcomer runs it: `bash examples/by-hand/walkthrough.sh` from the
 * checkout after `npm ci`. It makes a private CA, starts a coordinator over HTTPS, invites and enrolls three
 * hospitals, has each read and approve the plan, federates them from their CSV exports to completion, exports the final
 * model and scores new rows with it. The README shows this very script, byte for byte (the first test), so the two cannot drift apart.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../support/paths';

const root = repoRoot();
const script = path.join(root, 'examples', 'by-hand', 'walkthrough.sh');

/** The fenced block between `<!-- walkthrough:begin -->` and `<!-- walkthrough:end -->` in the README. */
function readmeWalkthrough(): string {
  const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
  const m = /<!-- walkthrough:begin -->\n+```bash\n([\s\S]*?)```\n+<!-- walkthrough:end -->/.exec(readme);
  if (!m)
    throw new Error(
      'README.md has no walkthrough block between <!-- walkthrough:begin --> and <!-- walkthrough:end -->',
    );
  return m[1]!;
}

describe('the README walkthrough (a consortium by hand over HTTPS)', () => {
  test('the README shows examples/by-hand/walkthrough.sh verbatim', () => {
    expect(readmeWalkthrough()).toBe(fs.readFileSync(script, 'utf8'));
  });

  test('federates three hospitals from CSV over HTTPS to completion', () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-walkthrough-'));
    try {
      const r = spawnSync('bash', [script], {
        cwd: os.tmpdir(),
        encoding: 'utf8',
        timeout: 240_000,
        env: { ...process.env, TWINFED_TRIAL_DIR: work },
      });
      const out = `${r.stdout}\n${r.stderr}`;
      if (r.status !== 0)
        throw new Error(`walkthrough exited ${r.status} (${r.signal ?? 'no signal'}):\n${out.slice(-4000)}`);
      expect(out).toMatch(/coordinator: https:\/\/127\.0\.0\.1:\d+ \(fingerprint /);
      expect(out.match(/It matches the fingerprint you gave\./g)).toHaveLength(3);
      // Each hospital read the plan (verified) and approved it; the approvals are in its audit chain.
      expect(
        out.match(/^Plan [0-9a-f]{64} \(signed by the coordinator; signature verified with the pinned key\)$/gm),
      ).toHaveLength(3);
      expect(out.match(/^Approved: the plan [0-9a-f]{12}… of fed-[0-9a-f]+, by \S+ data steward on /gm)).toHaveLength(
        3,
      );
      expect(out).toMatch(/^state:\s+completed$/m);
      const rounds = out.split('\n').filter((l) => /^\s+\d+\s+published\s+3\/3\s/.test(l));
      expect(rounds).toHaveLength(10);
      expect(out).toMatch(/^final model: fed-[0-9a-f]+\.v10$/m);
      for (const site of ['cleveland', 'budapest', 'long-beach']) {
        expect(fs.readFileSync(path.join(work, `${site}.log`), 'utf8')).toMatch(/Federation fed-[0-9a-f]+ completed\./);
      }
      // However the script ends, it leaves no coordinator behind (npx does not pass a kill on to the process it runs).
      const running = () =>
        fs
          .readdirSync('/proc')
          .filter((p) => /^\d+$/.test(p))
          .filter((p) => {
            try {
              return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(path.join(work, 'consortium'));
            } catch {
              return false; // ended meanwhile
            }
          });
      for (let i = 0; i < 75 && running().length > 0; i++) spawnSync('sleep', ['0.2']);
      expect(running()).toEqual([]);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  }, 300_000);
});
