import type { TestSite } from '@twinfed/coordinator/__tests__/harness';
import { deserializeWeights, routes, signRequest, type CurrentRound, type WeightSet } from '@twinfed/shared';

/** The site's view of the federation's current round. */
export async function currentRound(site: TestSite, fid: string): Promise<CurrentRound> {
  return (await (await site.request('GET', routes.currentRound(fid))).json()) as CurrentRound;
}

/** Uploads an update of the current round whose every weight is `value`; the HTTP status. */
export async function uploadConstant(site: TestSite, fid: string, value: number): Promise<number> {
  const cur = await currentRound(site, fid);
  const bytes = new Uint8Array(
    await (await site.request('GET', routes.modelWeights(cur.round!.baseVersionId))).arrayBuffer(),
  );
  const base = deserializeWeights(bytes);
  const weights: WeightSet = { layout: base.layout, data: base.data.map(() => value) };
  const sealed = site.seal({
    federationId: fid,
    round: cur.round!.round,
    baseVersionId: cur.round!.baseVersionId,
    weights,
    numExamples: 10,
  });
  return (await site.request('POST', routes.updates(fid, cur.round!.round), sealed)).status;
}

/** The same site identity talking to a coordinator at a new URL (a restarted process on a new port). */
export function rebind(site: TestSite, url: string): TestSite {
  return {
    ...site,
    request: async (method, p, b) => {
      const bytes =
        b === undefined ? new Uint8Array(0) : b instanceof Uint8Array ? b : new TextEncoder().encode(JSON.stringify(b));
      const headers: Record<string, string> = signRequest({
        method,
        path: p,
        body: bytes,
        siteId: site.siteId,
        signSecretKey: site.identity.sign.secretKey,
      });
      if (b !== undefined)
        headers['content-type'] = b instanceof Uint8Array ? 'application/octet-stream' : 'application/json';
      return fetch(url + p, { method, headers, ...(b === undefined ? {} : { body: bytes }) });
    },
  };
}
