import { loadAverage, machineMeta, toMarkdown, writeResults, type BenchTable } from '../bench/report';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { summariseCpuProfileDir } from '../bench/cpu-profile';
import { runLoad, type LoadResult } from './load-run';
import { writeScaleLoad, writeScaleProfile } from './scale-load';

/**
 * The load benchmark: for each site count, a coordinator process and that many simulated sites (real
 * enrollment, authenticated HTTP, socket.io, sealed uploads, evaluations) for `rounds` rounds on 127.0.0.1.
 * Writes `bench/results/load.{json,md}` and returns the results.
 */
export async function benchLoad(o: {
  sizes: number[];
  rounds: number;
  /** Profile the coordinator of the largest run (`node --cpu-prof`) and keep its top entries under this label. */
  profileLabel?: string;
  /** Profile the processes simulating the sites in the largest run and keep their summed top entries so. */
  siteProfileLabel?: string;
  /** Every simulated site connects from 127.0.0.1 (see `runLoad`). */
  sharedAddress?: boolean;
  log?: (line: string) => void;
}): Promise<LoadResult[]> {
  const results: LoadResult[] = [];
  const largest = Math.max(...o.sizes);
  for (const sites of o.sizes) {
    o.log?.(`load: ${sites} sites × ${o.rounds} rounds…`);
    const tmp = (label: string | undefined, prefix: string) =>
      label && sites === largest ? fs.mkdtempSync(path.join(os.tmpdir(), prefix)) : undefined;
    const profileDir = tmp(o.profileLabel, 'twinfed-profile-');
    const siteProfileDir = tmp(o.siteProfileLabel, 'twinfed-site-profile-');
    const r = await runLoad({
      sites,
      rounds: o.rounds,
      ...(profileDir ? { profileDir } : {}),
      ...(siteProfileDir ? { siteProfileDir } : {}),
      ...(o.sharedAddress ? { sharedAddress: true } : {}),
      ...(o.log ? { log: o.log } : {}),
    });
    if (r.errors.length > 0) o.log?.(`load: ${r.errors.length} errors, e.g. ${r.errors.slice(0, 3).join('; ')}`);
    results.push(r);
    if (profileDir) {
      // The federation only: enrollment (1,000 invitations and enrollments, each a durable audited write) is not what is measured.
      writeScaleProfile(
        'coordinator',
        o.profileLabel!,
        r,
        summariseCpuProfileDir(profileDir, 20, r.federationWindowUs),
      );
      fs.rmSync(profileDir, { recursive: true, force: true });
    }
    if (siteProfileDir) {
      // Each site process lives for the federation only (the sites were enrolled by this process before).
      const summary = summariseCpuProfileDir(siteProfileDir, 20, r.federationWindowUs, r.siteProcesses);
      writeScaleProfile('sites', o.siteProfileLabel!, r, summary);
      fs.rmSync(siteProfileDir, { recursive: true, force: true });
    }
  }
  writeScaleLoad(results);
  const tables: BenchTable[] = [
    {
      title: 'Rounds under load (FedAvg, logistic regression over 3 inputs, every site in every round)',
      note:
        'A round is timed from its opening to its publication on the coordinator: every site is told over socket.io, fetches and verifies ' +
        'the model, "trains" (a stand-in step, no tfjs), seals, signs and uploads; the coordinator verifies, decrypts, stores durably ' +
        '(SQLite WAL, synchronous FULL, on disk), aggregates and signs the version. Sites also evaluate and report every version. ' +
        'The coordinator is one process; all simulated sites share a second one on the same 2 cores. p95 over the rounds of the run. ' +
        'The load average in the header shows how busy the machine was with other work during the run (it inflates the times, not the CPU seconds much).',
      columns: [
        'sites',
        'rounds',
        'round p50 s',
        'round p95 s',
        'uploads',
        'errors',
        '503 retried',
        'coordinator RSS MiB (peak / end)',
        'coordinator CPU s',
        'sites CPU s',
        'enroll s',
      ],
      rows: results.map((r) => [
        String(r.sites),
        String(r.roundsPublished),
        r.p50,
        r.p95,
        String(r.uploads),
        String(r.errors.length),
        String(r.overloaded),
        `${r.coordinatorPeakRssMiB.toFixed(0)} / ${r.coordinatorRssMiB.toFixed(0)}`,
        r.coordinatorCpuSeconds,
        r.swarmCpuSeconds,
        r.enrollSeconds,
      ]),
    },
  ];
  const meta = {
    ...machineMeta(),
    loadavg: loadAverage(),
  };
  const md = toMarkdown('twinfed load', meta, tables);
  const out = writeResults(
    'load',
    { meta, results: results.map((r) => ({ ...r, errors: r.errors.slice(0, 20) })) },
    md,
  );
  o.log?.(`${md}\nwritten: ${out.json}, ${out.md}`);
  return results;
}
