import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeRoundDownload, decodeSignedDownload, roundDownloadHead, signedDownloadHead } from '@twinfed/shared';

const DOWNLOAD = /^(\/v1\/models\/[^/]+)\/download$/;
const ROUND_DOWNLOAD = /^(\/v1\/federations\/[^/]+\/rounds\/current)\/download(?:\?.*)?$/;

type Tamper = (path: string, body: Record<string, unknown>) => Record<string, unknown> | null;

/** A signed download with its signed part offered to `tamper` as the JSON of `path` (`/v1/models/:vid`); null when unchanged. */
function tamperedDownload(tamper: Tamper, path: string, bytes: Uint8Array): Buffer | null {
  const d = decodeSignedDownload(bytes);
  const changed = tamper(path, { meta: d.meta, signature: d.signature });
  if (!changed) return null;
  return Buffer.concat([signedDownloadHead({ meta: changed.meta, signature: String(changed.signature) }), d.weights]);
}

/**
 * A man in the middle for tests: forwards HTTP to `target` and lets `tamper` rewrite JSON response
 * bodies of matching paths (e.g. flip a model version's signature). The signed part of a version's one-request
 * download (`/v1/models/:vid/download`) is offered to `tamper` as the JSON of `/v1/models/:vid`, so one rule tampers
 * a version whichever route the site reads it by; the current round with the latest version
 * (`…/rounds/current/download`) is offered as the JSON of `…/rounds/current` and of `/v1/models/:vid`. Listens on
 * 127.0.0.1:0.
 */
export async function startTamperProxy(opts: {
  target: string;
  tamper: Tamper;
  /** Sees every request body that passes through (e.g. to search what a site sends). */
  onRequest?: (req: { method: string; path: string; body: Buffer }) => void;
}): Promise<{ url: string; close(): Promise<void> }> {
  const target = new URL(opts.target);
  const server = http.createServer((req, res) => {
    const upstream = http.request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, host: target.host },
      },
      (up) => {
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        up.on('end', () => {
          let body: Buffer = Buffer.concat(chunks);
          const headers = { ...up.headers };
          const download = DOWNLOAD.exec(req.url ?? '');
          const withRound = ROUND_DOWNLOAD.exec(req.url ?? '');
          if (download && up.statusCode === 200) {
            const changed = tamperedDownload(opts.tamper, download[1]!, body);
            if (changed) {
              body = changed;
              delete headers.etag;
            }
          } else if (withRound && up.statusCode === 200) {
            const answer = decodeRoundDownload(body);
            const current = answer.current as { federation: { latestVersionId: string | null } };
            const round = opts.tamper(withRound[1]!, answer.current as Record<string, unknown>);
            const latest = current.federation.latestVersionId;
            const version =
              answer.version && latest !== null
                ? tamperedDownload(opts.tamper, `/v1/models/${latest}`, answer.version)
                : null;
            if (round || version) {
              body = Buffer.concat([
                roundDownloadHead(round ?? answer.current),
                version ?? answer.version ?? new Uint8Array(0),
              ]);
              delete headers.etag;
            }
          } else if ((up.headers['content-type'] ?? '').includes('application/json')) {
            const changed = opts.tamper(req.url ?? '', JSON.parse(body.toString('utf8')) as Record<string, unknown>);
            if (changed) {
              body = Buffer.from(JSON.stringify(changed));
              delete headers.etag;
            }
          }
          headers['content-length'] = String(body.length);
          res.writeHead(up.statusCode ?? 502, headers);
          res.end(body);
        });
      },
    );
    upstream.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    const body: Buffer[] = [];
    req.on('data', (c: Buffer) => body.push(c));
    req.on('end', () => opts.onRequest?.({ method: req.method ?? '', path: req.url ?? '', body: Buffer.concat(body) }));
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
