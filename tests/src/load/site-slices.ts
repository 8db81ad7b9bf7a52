/** A contiguous range of site indices, [from, to). */
export interface SiteSlice {
  readonly from: number;
  readonly to: number;
}

/**
 * The sites 0 … count − 1 cut into at most `processes` contiguous slices whose sizes differ by at most one, each at
 * least `minPerSlice` sites (fewer slices when there are not enough sites; one slice at the least). A process that
 * runs a slice must hold a site that does not drop out (see `runSwarm`: a held upload is released when a site of the
 * same process sees its round end), so with every `dropEvery`-th site dropping a slice needs `dropEvery` sites.
 */
export function siteSlices(count: number, processes: number, minPerSlice = 1): SiteSlice[] {
  if (!Number.isInteger(count) || count < 0) throw new Error(`site count must be a whole number, not ${count}`);
  if (!Number.isInteger(processes) || processes < 1)
    throw new Error(`site processes must be a whole number ≥ 1, not ${processes}`);
  const n = Math.max(1, Math.min(processes, Math.floor(count / Math.max(1, minPerSlice))));
  const base = Math.floor(count / n);
  const extra = count % n;
  const out: SiteSlice[] = [];
  for (let i = 0, from = 0; i < n; i++) {
    const to = from + base + (i < extra ? 1 : 0);
    out.push({ from, to });
    from = to;
  }
  return out;
}
