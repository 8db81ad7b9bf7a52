/**
 * Server-wide PostgreSQL statistics for the cluster benchmark, read with the `psql` client (the benchmark needs no
 * pool of its own, and `pg` stays owned by the coordinator's store): connections of one application name from
 * pg_stat_activity, and committed transactions of one database from pg_stat_database.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The value of the last statement in `psql -At` output (its last non-empty line), as a number; an error otherwise. */
export function parsePsqlNumber(stdout: string): number {
  const line =
    stdout
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .at(-1) ?? '';
  const n = Number(line);
  if (line === '' || !Number.isFinite(n)) throw new Error(`psql answered "${line}", not a number`);
  return n;
}

async function scalar(url: string, sql: string): Promise<number> {
  try {
    const { stdout } = await run('psql', [url, '-X', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql], { timeout: 15_000 });
    return parsePsqlNumber(stdout);
  } catch (e) {
    throw new Error(`PostgreSQL statistics unavailable (psql on ${new URL(url).host}): ${(e as Error).message}`);
  }
}

/** Only letters, digits and _ (names this benchmark makes), so they can go into SQL as literals. */
function literal(name: string): string {
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new RangeError(`unsafe name ${name}`);
  return `'${name}'`;
}

/** Sessions connected with this application_name now. */
function connectionsOf(url: string, applicationName: string): Promise<number> {
  return scalar(url, `SELECT count(*) FROM pg_stat_activity WHERE application_name = ${literal(applicationName)}`);
}

/** Transactions committed in `database` so far (every user of the server, flushed statistics only). */
export function commitsOf(url: string, database: string): Promise<number> {
  return scalar(
    url,
    `SELECT pg_stat_clear_snapshot(); SELECT xact_commit FROM pg_stat_database WHERE datname = ${literal(database)}`,
  );
}

/** Polls {@link connectionsOf} every `everyMs` until stopped; `stop()` resolves to the peak and the number of polls. */
export function watchConnections(
  url: string,
  applicationName: string,
  everyMs: number,
): { stop(): Promise<{ peak: number; polls: number }> } {
  let peak = 0;
  let polls = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      peak = Math.max(peak, await connectionsOf(url, applicationName));
      polls++;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { peak, polls };
    },
  };
}
