import { openUpdate, parseUpdate, verifyUpdateSignature } from '@twinfed/shared';
import type { Enrollment } from '@twinfed/site-client';

/** The crypto floor of one envelope: signature verify + key agreement + AEAD open, ms (median of batch means). */
export function cryptoFloorMs(o: {
  envelope: Uint8Array;
  enrollment: Enrollment;
  coordinatorBoxSecretKey: Uint8Array;
  batches?: number;
  perBatch?: number;
}): number {
  const { header, ciphertext } = parseUpdate(o.envelope);
  const once = () => {
    verifyUpdateSignature({ header, ciphertext, siteSignPublicKey: o.enrollment.identity.sign.publicKey });
    openUpdate({
      header,
      ciphertext,
      siteBoxPublicKey: o.enrollment.identity.box.publicKey,
      coordinatorBoxSecretKey: o.coordinatorBoxSecretKey,
    });
  };
  for (let i = 0; i < 50; i++) once(); // warm-up
  const means: number[] = [];
  const perBatch = o.perBatch ?? 200;
  for (let b = 0; b < (o.batches ?? 7); b++) {
    const t0 = process.cpuUsage();
    for (let i = 0; i < perBatch; i++) once();
    const d = process.cpuUsage(t0);
    means.push((d.user + d.system) / 1000 / perBatch);
  }
  means.sort((a, b) => a - b);
  return means[means.length >> 1]!;
}
