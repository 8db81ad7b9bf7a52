import { routes, type CurrentRound } from '@twinfed/shared';
import { enrollTestSite, json, operator, sealedUpdate, startTestCoordinator, testPlan } from '../__tests__/harness';

describe('the hot site routes answer without computing an ETag (no site sends If-None-Match)', () => {
  test('current round, download and upload: no ETag, exact Content-Length; a HEAD of the download gets no body; other routes keep theirs', async () => {
    const c = await startTestCoordinator();
    try {
      const a = await enrollTestSite(c, 'a');
      await enrollTestSite(c, 'b');
      const fid = (await json<{ id: string }>(operator(c, 'POST', routes.federations, { plan: testPlan() }))).id;

      const current = await a.request('GET', routes.currentRound(fid));
      expect(current.status).toBe(200);
      expect(current.headers.get('etag')).toBeNull();
      expect(current.headers.get('content-type')).toBe('application/json; charset=utf-8');
      const currentText = await current.text();
      expect(Number(current.headers.get('content-length'))).toBe(Buffer.byteLength(currentText));
      const vid = (JSON.parse(currentText) as CurrentRound).round!.baseVersionId;

      const download = await a.request('GET', routes.modelDownload(vid));
      expect(download.status).toBe(200);
      expect(download.headers.get('etag')).toBeNull();
      expect(download.headers.get('content-type')).toBe('application/octet-stream');
      expect(download.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
      const bytes = new Uint8Array(await download.arrayBuffer());
      expect(Number(download.headers.get('content-length'))).toBe(bytes.byteLength);
      // The answer is the signed head, then the weights exactly as the weights route serves them.
      const weights = new Uint8Array(await (await a.request('GET', routes.modelWeights(vid))).arrayBuffer());
      expect(Buffer.from(bytes.subarray(bytes.byteLength - weights.byteLength)).equals(Buffer.from(weights))).toBe(
        true,
      );

      const head = await a.request('HEAD', routes.modelDownload(vid));
      expect(head.status).toBe(200);
      expect(Number(head.headers.get('content-length'))).toBe(bytes.byteLength);
      expect((await head.arrayBuffer()).byteLength).toBe(0);

      const { sealed } = await sealedUpdate(a, fid);
      const upload = await a.request('POST', routes.updates(fid, 1), sealed);
      expect(upload.status).toBe(201);
      expect(upload.headers.get('etag')).toBeNull();
      expect(((await upload.json()) as { status: string }).status).toBe('accepted');

      // Routes a browser may revalidate keep express's ETag.
      expect((await operator(c, 'GET', routes.federations)).headers.get('etag')).toMatch(/^W\//);
    } finally {
      await c.close();
    }
  });
});
