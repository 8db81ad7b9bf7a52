import type { PostgresStore } from '@twinfed/coordinator';
import type { Cluster } from '../../support/cluster';

/** One fail-over the demo caused: the driver it killed, who took over, and how long the federation had no driver. */
interface Failover {
  federationId: string;
  round: number;
  killed: string;
  tookOver: string;
  /** From the SIGKILL until another live replica held the driver lease. */
  seconds: number;
}

/** The live replica that holds the federation's driver lease now, or null (none yet, or its lease ran out). */
async function currentDriver(c: Cluster, store: PostgresStore, federationId: string): Promise<number | null> {
  const lease = await store.getLease(`driver:${federationId}`);
  const i = c.replicas.findIndex((r) => r.id === lease?.holder);
  return lease && i >= 0 && lease.expiresAt > Date.now() && c.alive(i) ? i : null;
}

async function waitFor<T>(probe: () => Promise<T | null>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => null);
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Waits until round `round` of the federation has received at least one update, then SIGKILLs the replica that drives
 * it, waits for another replica to take the driver lease over, and starts the killed replica again (it rejoins as a
 * follower). `say` narrates each step.
 */
export async function killDriverDuring(o: {
  cluster: Cluster;
  store: PostgresStore;
  federationId: string;
  round: number;
  say: (line: string) => void;
}): Promise<Failover> {
  const { cluster: c, store, federationId } = o;
  await waitFor(
    async () => {
      const r = (await store.listRounds(federationId)).find((x) => x.round === o.round);
      const received = r ? (await store.listUpdateSummaries(federationId, o.round)).length : 0;
      return r && received > 0 ? true : null;
    },
    15 * 60_000,
    `round ${o.round} to receive its first update`,
  );
  const driver = await waitFor(() => currentDriver(c, store, federationId), 60_000, 'the driver');
  const killed = c.replicas[driver]!;
  const at = Date.now();
  o.say(`round ${o.round}: SIGKILL to ${killed.id}, the replica driving ${federationId}, while it collects updates`);
  await c.signal(driver, 'SIGKILL');
  const next = await waitFor(
    async () => {
      const d = await currentDriver(c, store, federationId);
      return d !== null && d !== driver ? d : null;
    },
    120_000,
    'another replica to take over',
  );
  const seconds = Math.round((Date.now() - at) / 100) / 10;
  const tookOver = c.replicas[next]!.id;
  o.say(
    `round ${o.round}: ${tookOver} took the driver lease over ${seconds} s later and resumed the round from the store`,
  );
  await c.start(driver);
  o.say(`${killed.id} started again; it rejoins as a follower`);
  return { federationId, round: o.round, killed: killed.id, tookOver, seconds };
}
