/** Harness and record builders shared by the twin store contract suite. */
import type { ObservationWrite, PatientWrite, TwinStore, TwinWrite } from '../store-types';

export const SECRET = Uint8Array.from({ length: 32 }, (_, i) => (i * 7 + 3) & 0xff);

/** A controllable clock. */
export class Clock {
  value = Date.UTC(2025, 0, 1);
  now = (): number => this.value;
}

export interface TwinStoreHarness {
  store: TwinStore;
  clock: Clock;
  /** Closes the store and opens the same data again (durable stores only). */
  reopen?: () => Promise<TwinStore>;
  cleanup: () => Promise<void>;
}

export type TwinStoreFactory = (input: { secret: Uint8Array; clock: Clock }) => Promise<TwinStoreHarness>;

/** The live harness of the running test. */
export class HarnessRef {
  private harness: TwinStoreHarness | null = null;

  set(h: TwinStoreHarness): void {
    this.harness = h;
  }

  private get h(): TwinStoreHarness {
    if (!this.harness) throw new Error('no twin store harness');
    return this.harness;
  }

  get store(): TwinStore {
    return this.h.store;
  }

  get clock(): Clock {
    return this.h.clock;
  }

  /** The store to read back from: a reopened one when durable, else the same one. */
  async again(): Promise<TwinStore> {
    const h = this.h;
    if (h.reopen) h.store = await h.reopen();
    return h.store;
  }

  async cleanup(): Promise<void> {
    const h = this.harness;
    this.harness = null;
    await h?.cleanup();
  }
}

/** Milliseconds at `day` days after 2024-01-01. */
export const day = (d: number): number => Date.UTC(2024, 0, 1) + d * 86_400_000;

export function patient(hospitalId: string, extra: Partial<PatientWrite> = {}): PatientWrite {
  return { type: 'patient', hospitalId, birthDate: '1950-03-04', sex: 'female', ...extra };
}

export function hr(hospitalId: string, sourceId: string, t: number, value = 70): ObservationWrite {
  return {
    type: 'observation',
    patient: { hospitalId },
    sourceId,
    code: '8867-4',
    t,
    value,
    unit: '/min',
    source: 'fhir',
  };
}

export function consent(
  hospitalId: string,
  sourceId: string,
  decision: 'permit' | 'deny',
  t: number,
  purpose: 'model-training' | 'scoring' = 'model-training',
): TwinWrite {
  return { type: 'consent', patient: { hospitalId }, sourceId, purpose, decision, t };
}
