/** In memory: population reports per model version and site. */
import { unknownVersion } from '../errors';
import { POPULATION_KEYS } from '../keys';
import type { PopulationReportRecord } from '../records';
import type { PopulationStore } from '../types';
import { cloneRecord, compareStrings } from '../util';
import type { MemoryContext } from './context';
import { key } from './state';

const copy = (r: PopulationReportRecord): PopulationReportRecord => cloneRecord(r, POPULATION_KEYS);

export function population(x: MemoryContext): PopulationStore {
  return {
    async putPopulationReport(r) {
      const s = x.s;
      if (!s.versions.has(r.versionId)) throw unknownVersion();
      const stored = copy(r);
      s.populationReports.set(key(r.versionId, r.siteId), stored);
      return copy(stored);
    },

    async listPopulationReports(filter = {}) {
      const s = x.s;
      const order = [...s.versions.keys()];
      return [...s.populationReports.values()]
        .filter(
          (r) =>
            (filter.versionId === undefined || r.versionId === filter.versionId) &&
            (filter.federationId === undefined || r.federationId === filter.federationId),
        )
        .sort((a, b) => order.indexOf(a.versionId) - order.indexOf(b.versionId) || compareStrings(a.siteId, b.siteId))
        .map(copy);
    },
  };
}
