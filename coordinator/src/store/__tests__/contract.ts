/**
 * The one contract test suite every {@link Store} implementation must pass (Flower-style: the in-memory
 * twin and the SQLite store run exactly the same tests). When the harness offers `reopen`, reads after
 * writes go through a reopened store, which also proves durability.
 */
import { afterEach, beforeEach, describe } from '@jest/globals';
import { auditContract } from './contract/audit';
import { cohortContract } from './contract/cohort';
import { cohortPoolContract } from './contract/cohort-pool';
import { countContract } from './contract/counts';
import { crossSiteContract } from './contract/cross-site';
import { decisionContract } from './contract/decisions';
import { federationContract } from './contract/federations';
import { HarnessRef, type StoreFactory } from './contract/fixtures';
import { identityContract } from './contract/identity';
import { leaseContract } from './contract/leases';
import { lifecycleContract } from './contract/lifecycle';
import { secaggContract } from './contract/secagg';
import { statsContract } from './contract/stats';
import { recalibrationContract } from './contract/recalibration';
import { studyContract } from './contract/studies';
import { updateContract } from './contract/updates';
import { versionContract } from './contract/versions';

export type { StoreFactory, StoreHarness } from './contract/fixtures';

/** Registers the store contract suite for one implementation. */
export function describeStoreContract(name: string, factory: StoreFactory): void {
  describe(`Store contract: ${name}`, () => {
    const h = new HarnessRef();
    beforeEach(async () => {
      h.set(await factory());
    });
    afterEach(async () => {
      await h.cleanup();
    });
    identityContract(h);
    studyContract(h);
    federationContract(h);
    updateContract(h);
    versionContract(h);
    statsContract(h);
    recalibrationContract(h);
    cohortContract(h);
    cohortPoolContract(h);
    secaggContract(h);
    decisionContract(h);
    crossSiteContract(h);
    lifecycleContract(h);
    auditContract(h);
    leaseContract(h);
    countContract(h);
  });
}
