/**
 * The reference server of the request-cost benchmark: bare `node:http` that, for every request, reads the body, checks
 * it against its authenticated digest and verifies the request's MAC (`verifyRequestMac` under the site's request key,
 * derived once at start) or Ed25519 signature (`verifyRequest` with the site's public key), the coordinator's own
 * checks, then answers 200 with as many bytes as the coordinator answered the same path.
 * No framework, no store, no nonce: what a signed request costs at the least. Reads its keys and answer sizes from
 * the JSON file named by its one argument; prints `{"port":…}` once listening on 127.0.0.1.
 */
import fs from 'node:fs';
import http from 'node:http';
import {
  fromB64,
  sha256Hex,
  siteRequestMacKey,
  verifyRequest,
  verifyRequestMac,
  type RequestMacKey,
} from '@twinfed/shared';
import { answerKey } from '../answer-key';

interface ReferenceSetup {
  auth: 'mac' | 'signature';
  /** Site id → base64 Ed25519 public key. */
  keys: Record<string, string>;
  /** Site id → the box keys its request MAC key comes from (base64; benchmark identities only). */
  macSecrets: Record<string, { siteBox: string; coordinatorBox: string }>;
  /** Path template key (see `answerKey`) → bytes of the coordinator's answer. */
  answerBytes: Record<string, number>;
  windowMs: number;
}

const setup = JSON.parse(fs.readFileSync(process.argv[2]!, 'utf8')) as ReferenceSetup;
const keys = new Map(Object.entries(setup.keys).map(([id, k]) => [id, fromB64(k)]));
const macKeys = new Map<string, RequestMacKey | null>(
  Object.entries(setup.macSecrets).map(([siteId, s]) => [
    siteId,
    siteRequestMacKey({
      siteId,
      siteBoxSecretKey: fromB64(s.siteBox),
      coordinatorBoxPublicKey: fromB64(s.coordinatorBox),
    }),
  ]),
);
const answers = new Map(Object.entries(setup.answerBytes).map(([k, n]) => [k, Buffer.alloc(n, 0x20)]));

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    try {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      const digest = req.headers['x-twinfed-content-sha256'];
      if (typeof digest !== 'string' || sha256Hex(body) !== digest) throw new Error('digest');
      const siteId = String(req.headers['x-twinfed-site']);
      const request = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        bodySha256: digest,
        headers: req.headers,
        now: Date.now(),
        windowMs: setup.windowMs,
      };
      if (setup.auth === 'mac') {
        const key = macKeys.get(siteId);
        if (!key) throw new Error('site');
        verifyRequestMac({ ...request, key });
      } else {
        const key = keys.get(siteId);
        if (!key) throw new Error('site');
        verifyRequest({ ...request, signPublicKey: key });
      }
      const answer = answers.get(answerKey(req.method ?? 'GET', req.url ?? '/')) ?? Buffer.alloc(0);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': answer.byteLength });
      res.end(answer);
    } catch (e) {
      res.writeHead(401).end(e instanceof Error ? e.message : 'refused');
    }
  });
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`);
});
