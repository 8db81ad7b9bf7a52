/**
 * The one contract suite every {@link TwinStore} implementation passes (the in-memory twin and SQLite run
 * exactly these tests). With `reopen`, reads after writes go through a reopened store (durability).
 */
import { afterEach, beforeEach, describe } from '@jest/globals';
import { consentContract } from './contract-consent';
import { patientContract } from './contract-patients';
import { recordContract } from './contract-records';
import { Clock, HarnessRef, SECRET, type TwinStoreFactory } from './harness';

export function describeTwinStoreContract(name: string, factory: TwinStoreFactory): void {
  describe(`TwinStore contract: ${name}`, () => {
    const h = new HarnessRef();
    beforeEach(async () => {
      h.set(await factory({ secret: SECRET, clock: new Clock() }));
    });
    afterEach(async () => {
      await h.cleanup();
    });
    patientContract(h);
    recordContract(h);
    consentContract(h);
  });
}
