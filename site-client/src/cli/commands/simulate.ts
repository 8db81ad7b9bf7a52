import * as fs from 'node:fs';
import * as path from 'node:path';
import { Option, type Command } from 'commander';
import { TwinfedError } from '@twinfed/shared';
import { writeFileAtomic } from '../../fs-atomic';
import { simulateHospital, type SimulatedHospital } from '../../simulate/hospital';
import { HOSPITAL_PROFILE_NAMES, HOSPITAL_PROFILES, type HospitalProfileName } from '../../simulate/profiles';
import type { WearableBatch } from '../../simulate/fhir';
import { writeJsonLine, type CliDeps, type CommonFlags } from '../context';
import { instantArg, numberArg, positiveInt } from '../parse';

interface SimulateFlags extends CommonFlags {
  patients: number;
  hospital: HospitalProfileName;
  seed: number;
  out: string;
  days: number;
  followUpDays: number;
  start: number;
  format: 'ndjson' | 'bundle';
  batchSize: number;
}

/** Names of the files `simulate` writes into its output directory. */
const SIMULATION_FILES = {
  ndjson: 'fhir.ndjson',
  bundle: 'fhir-bundle.json',
  wearable: 'wearable.ndjson',
  manifest: 'simulation.json',
} as const;

/** The wearable stream as batches of at most `size` samples (what a device gateway posts). */
function splitBatches(batches: readonly WearableBatch[], size: number): WearableBatch[] {
  return batches.flatMap((b) =>
    Array.from({ length: Math.ceil(b.samples.length / size) }, (_, i) => ({
      ...b,
      samples: b.samples.slice(i * size, (i + 1) * size),
    })),
  );
}

function writeFiles(
  sim: SimulatedHospital,
  flags: SimulateFlags,
): { fhir: string; wearable: string; resources: number; batches: number; samples: number } {
  fs.mkdirSync(flags.out, { recursive: true });
  const entries = sim.bundles.flatMap((b) => (b.entry as { resource: unknown }[]).map((e) => e.resource));
  const fhir = path.join(flags.out, flags.format === 'ndjson' ? SIMULATION_FILES.ndjson : SIMULATION_FILES.bundle);
  const text =
    flags.format === 'ndjson'
      ? entries.map((r) => JSON.stringify(r)).join('\n') + '\n'
      : JSON.stringify({
          resourceType: 'Bundle',
          type: 'collection',
          entry: sim.bundles.flatMap((b) => b.entry as unknown[]),
        });
  writeFileAtomic(fhir, text);
  const batches = splitBatches(sim.wearable, flags.batchSize);
  const wearable = path.join(flags.out, SIMULATION_FILES.wearable);
  writeFileAtomic(wearable, batches.map((b) => JSON.stringify(b)).join('\n') + (batches.length ? '\n' : ''));
  return {
    fhir,
    wearable,
    resources: entries.length,
    batches: batches.length,
    samples: batches.reduce((n, b) => n + b.samples.length, 0),
  };
}

/** `twinfed-site simulate`: a synthetic hospital's EHR export and wearable stream, for demos and tests. */
export function addSimulateCommand(program: Command, deps: CliDeps): void {
  program
    .command('simulate')
    .summary('write a synthetic hospital: FHIR records and a wearable stream (for demos and tests)')
    .description(
      'Generate synthetic patients of one of four hospital populations (reproducible from --seed) and write their EHR ' +
        'export as FHIR R4 (Patient, Observation, Condition, Immunization, Consent) and their wearable samples as a ' +
        'stream file of device batches. The patients are fictitious; their outcomes follow a documented ground-truth ' +
        'susceptibility (simulate/ground-truth.ts). Load them with `ingest fhir` and post the stream to the local API.',
    )
    .requiredOption(
      '--patients <n>',
      'number of patients',
      numberArg('patients must be a non-negative integer', (n) => Number.isInteger(n) && n >= 0),
    )
    .addOption(
      new Option('--hospital <profile>', 'population profile')
        .choices([...HOSPITAL_PROFILE_NAMES])
        .makeOptionMandatory(),
    )
    .requiredOption(
      '--seed <n>',
      'random seed (same seed, same patients)',
      numberArg('the seed must be a non-negative integer', (n) => Number.isInteger(n) && n >= 0),
    )
    .requiredOption('--out <dir>', 'output directory (created if missing; files in it are replaced)')
    .option(
      '--days <d>',
      'observed days of history before the snapshot (at least 14)',
      numberArg('days must be an integer of at least 14', (n) => Number.isInteger(n) && n >= 14),
      28,
    )
    .option(
      '--follow-up-days <d>',
      'days of follow-up after the snapshot: weekly clinic contacts, a quarter of the patients lost at a random time (outcomes after that unrecorded); for time-to-event labels',
      numberArg('follow-up days must be an integer from 0 to 3650', (n) => Number.isInteger(n) && n >= 0 && n <= 3650),
      0,
    )
    .option(
      '--start <instant>',
      'start of the observed period (ISO 8601)',
      instantArg,
      Date.parse('2025-01-01T00:00:00Z'),
    )
    .addOption(
      new Option('--format <format>', 'FHIR file format: NDJSON (one resource per line) or one collection Bundle')
        .choices(['ndjson', 'bundle'])
        .default('ndjson'),
    )
    .option('--batch-size <n>', 'most samples per wearable batch', positiveInt('the batch size'), 500)
    .addHelpText(
      'after',
      '\nProfiles:\n' +
        HOSPITAL_PROFILE_NAMES.map((n) => `  ${n.padEnd(20)} ${HOSPITAL_PROFILES[n].description}`).join('\n') +
        `\n\nFiles: ${SIMULATION_FILES.ndjson} (or ${SIMULATION_FILES.bundle}), ${SIMULATION_FILES.wearable} (one {deviceId, patientRef, samples} batch per line),\n` +
        `  ${SIMULATION_FILES.manifest} (what was written, the snapshot time "at", the documented prevalence).\n` +
        'Train and score at the snapshot time: pass --at <at> to `run --twins`.\n' +
        '\nExamples:\n' +
        '  $ twinfed-site simulate --patients 500 --hospital rural-elderly --seed 7 --out ./sim/rural\n' +
        '  $ twinfed-site ingest fhir ./sim/rural/fhir.ndjson --data-dir ./site-rural',
    )
    .action((_opts: unknown, cmd: Command) => {
      const flags = cmd.optsWithGlobals<SimulateFlags>();
      let sim: SimulatedHospital;
      try {
        sim = simulateHospital({
          patients: flags.patients,
          profile: flags.hospital,
          seed: flags.seed,
          start: flags.start,
          days: flags.days,
          followUpDays: flags.followUpDays,
        });
      } catch (e) {
        throw e instanceof TwinfedError
          ? e
          : new TwinfedError('BAD_REQUEST', e instanceof Error ? e.message : String(e));
      }
      const files = writeFiles(sim, flags);
      const profile = HOSPITAL_PROFILES[flags.hospital];
      const outcomes = sim.cohort.patients.filter((p) => p.truth.outcome).length;
      const manifest = {
        profile: profile.name,
        description: profile.description,
        patients: flags.patients,
        seed: flags.seed,
        start: new Date(flags.start).toISOString(),
        days: flags.days,
        ...(flags.followUpDays > 0 ? { followUpDays: flags.followUpDays } : {}),
        at: new Date(sim.at).toISOString(),
        documentedPrevalence: [...profile.expectedPrevalence],
        simulatedOutcomes: outcomes,
        devices: sim.wearable.length,
        files: { fhir: path.basename(files.fhir), wearable: path.basename(files.wearable) },
        resources: files.resources,
        wearableBatches: files.batches,
        wearableSamples: files.samples,
      };
      const manifestFile = path.join(flags.out, SIMULATION_FILES.manifest);
      writeFileAtomic(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
      if (flags.json)
        return writeJsonLine(deps.stdout, {
          type: 'simulated',
          out: path.resolve(flags.out),
          fhirFile: path.resolve(files.fhir),
          wearableFile: path.resolve(files.wearable),
          manifestFile: path.resolve(manifestFile),
          ...manifest,
        });
      const pct = (v: number) => `${(v * 100).toFixed(1)} %`;
      deps.stdout.write(
        [
          `Simulated ${flags.patients} patients of the ${profile.name} profile (seed ${flags.seed}): ${profile.description}.`,
          `  ${files.fhir}: ${files.resources} FHIR resources (${flags.format}).`,
          `  ${files.wearable}: ${files.samples} samples from ${sim.wearable.length} devices in ${files.batches} batches.`,
          `  ${manifestFile}: the manifest.`,
          `Snapshot time (train and score at it with --at): ${manifest.at}.`,
          `Documented prevalence of the outcome (pneumonia within 30 days): ${pct(profile.expectedPrevalence[0])}–${pct(profile.expectedPrevalence[1])}; this cohort: ${outcomes} of ${flags.patients}${flags.patients ? ` (${pct(outcomes / flags.patients)})` : ''}.`,
          '',
        ].join('\n'),
      );
    });
}
