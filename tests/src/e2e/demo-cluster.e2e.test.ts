import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requireRedis } from '@twinfed/coordinator/__tests__/redis';
import { pgTestUrl } from '@twinfed/coordinator/store/__tests__/pg';
import { repoRoot } from '../support/paths';
import { runNode } from '../support/processes';

interface ClusterSummary {
  replicas: number;
  failovers: number;
  takeovers: Array<{ killed: string; tookOver: string; round: number; seconds: number }>;
  acknowledgedUpdates: number;
  lostAcknowledgedUpdates: number;
  bitIdenticalToSingleReplica: boolean | null;
  rounds: number;
  federated: { accuracy: number };
}

/** `npm run demo:cluster` as a user runs it (shortened): the summary it writes says what the README promises. */
describe('the cluster demo', () => {
  test('three replicas, the driver killed mid-round, nothing lost, the same bits as one replica', async () => {
    await requireRedis();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'twinfed-demo-cluster-'));
    try {
      const summaryFile = path.join(dir, 'summary.json');
      const lines = await runNode({
        name: 'demo:cluster',
        script: path.join(repoRoot(), 'tests', 'dist', 'demo', 'cluster', 'main.js'),
        args: ['--rounds', '3', '--kill-round', '2', '--summary', summaryFile, '--pg-url', pgTestUrl()],
        timeoutMs: 280_000,
      });
      expect(lines.join('\n')).toMatch(/SIGKILL to replica-\d, the replica driving/);
      const s = JSON.parse(fs.readFileSync(summaryFile, 'utf8')) as ClusterSummary;
      expect(s.replicas).toBe(3);
      expect(s.failovers).toBe(1);
      expect(s.takeovers[0]!.round).toBe(2);
      expect(s.takeovers[0]!.tookOver).not.toBe(s.takeovers[0]!.killed);
      expect(s.rounds).toBe(3);
      expect(s.acknowledgedUpdates).toBe(4 * 3);
      expect(s.lostAcknowledgedUpdates).toBe(0);
      expect(s.bitIdenticalToSingleReplica).toBe(true);
      expect(s.federated.accuracy).toBeGreaterThan(0.5);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
