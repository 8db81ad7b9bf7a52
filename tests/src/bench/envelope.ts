/**
 * Micro benchmark of the update envelope against raw tweetnacl on the same bytes in the same run
 * (the reference every benchmark reports against). No I/O and no clock assumptions: callers print or store the result.
 */
import nacl from 'tweetnacl';
import {
  PROTOCOL_VERSION,
  TwinfedError,
  generateIdentity,
  openBox,
  openUpdate,
  parseUpdate,
  randomBytes,
  sealBox,
  sealUpdate,
  verifyUpdateSignature,
  type WeightSet,
} from '@twinfed/shared';

/** Throughputs in MiB/s of plaintext weight bytes. */
interface EnvelopeBenchResult {
  readonly sizeBytes: number;
  readonly iterations: number;
  /** `sealUpdate`: serialise + AEAD + sign. */
  readonly sealMiBs: number;
  /** `parseUpdate` + `verifyUpdateSignature` + `openUpdate`: parse + verify + decrypt + deserialise + validate. */
  readonly openMiBs: number;
  /** `sealBox` alone (the AEAD behind the envelope). */
  readonly boxSealMiBs: number;
  /** `openBox` alone. */
  readonly boxOpenMiBs: number;
  /** Reference: `nacl.box` over the same bytes. */
  readonly naclBoxMiBs: number;
  /** Reference: `nacl.box.open` over the same bytes. */
  readonly naclOpenMiBs: number;
}

/** Throughput from the median of per-iteration times (robust to GC pauses and noisy neighbours). */
function mibs(bytes: number, iterations: number, fn: () => void): number {
  fn(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - start) / 1e9);
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  const median = times.length % 2 === 1 ? times[mid]! : (times[mid - 1]! + times[mid]!) / 2;
  return bytes / (1024 * 1024) / Math.max(median, 1e-9);
}

/**
 * Measures envelope and box throughput for weights of about `sizeBytes` bytes (rounded down to whole
 * float32s): `iterations` timed runs of each operation after one warm-up run, reported at the median.
 */
export function benchEnvelope(opts: { sizeBytes: number; iterations: number }): EnvelopeBenchResult {
  const n = Math.floor(opts.sizeBytes / 4);
  if (n < 1 || !Number.isSafeInteger(opts.iterations) || opts.iterations < 1) {
    throw new TwinfedError('INTERNAL', 'benchEnvelope: sizeBytes ≥ 4 and iterations ≥ 1 required.');
  }
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(i) * 0.01;
  const weights: WeightSet = { layout: [{ name: 'w', shape: [n], dtype: 'float32' }], data };
  const site = generateIdentity();
  const coord = generateIdentity();
  const header = {
    protocol: PROTOCOL_VERSION,
    federationId: 'bench',
    round: 1,
    siteId: 'bench-site',
    baseVersionId: 'v0',
    numExamples: 1,
    metrics: {},
    sentAt: new Date(0).toISOString(),
  };
  const bytes = n * 4;
  const seal = (): Uint8Array =>
    sealUpdate({ header, weights, identity: site, coordinatorBoxPublicKey: coord.box.publicKey });
  const envelope = seal();
  const sealMiBs = mibs(bytes, opts.iterations, seal);
  const openMiBs = mibs(bytes, opts.iterations, () => {
    const { header: h, ciphertext } = parseUpdate(envelope, { maxBytes: envelope.byteLength });
    verifyUpdateSignature({ header: h, ciphertext, siteSignPublicKey: site.sign.publicKey });
    openUpdate({
      header: h,
      ciphertext,
      siteBoxPublicKey: site.box.publicKey,
      coordinatorBoxSecretKey: coord.box.secretKey,
      maxBytes: envelope.byteLength,
    });
  });

  const plaintext = randomBytes(bytes);
  const boxArgs = { plaintext, recipientBoxPublicKey: coord.box.publicKey, senderBoxSecretKey: site.box.secretKey };
  const box = sealBox(boxArgs);
  const boxSealMiBs = mibs(bytes, opts.iterations, () => sealBox(boxArgs));
  const boxOpenMiBs = mibs(bytes, opts.iterations, () =>
    openBox({
      ciphertext: box.ciphertext,
      nonce: box.nonce,
      senderBoxPublicKey: site.box.publicKey,
      recipientBoxSecretKey: coord.box.secretKey,
    }),
  );

  const nonce = randomBytes(nacl.box.nonceLength);
  const naclCt = nacl.box(plaintext, nonce, coord.box.publicKey, site.box.secretKey);
  const naclBoxMiBs = mibs(bytes, opts.iterations, () =>
    nacl.box(plaintext, nonce, coord.box.publicKey, site.box.secretKey),
  );
  const naclOpenMiBs = mibs(bytes, opts.iterations, () => {
    if (!nacl.box.open(naclCt, nonce, site.box.publicKey, coord.box.secretKey))
      throw new TwinfedError('DECRYPT_FAILED');
  });
  return {
    sizeBytes: bytes,
    iterations: opts.iterations,
    sealMiBs,
    openMiBs,
    boxSealMiBs,
    boxOpenMiBs,
    naclBoxMiBs,
    naclOpenMiBs,
  };
}
