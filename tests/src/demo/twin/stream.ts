import fs from 'node:fs';
import readline from 'node:readline';

/** What streaming one hospital's wearable file to its site's local API did. */
export interface StreamResult {
  samples: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  seconds: number;
}

/**
 * Plays a device gateway: posts the wearable NDJSON batches to the site's authenticated local endpoint,
 * `concurrency` requests at a time, honouring Retry-After on 429/503 (the site's backpressure).
 */
export async function streamWearables(opts: {
  file: string;
  localApi: string;
  token: string;
  concurrency?: number;
}): Promise<StreamResult> {
  const started = performance.now();
  const out: StreamResult = { samples: 0, accepted: 0, duplicates: 0, rejected: 0, seconds: 0 };
  const lines = readline.createInterface({ input: fs.createReadStream(opts.file) });
  const inflight = new Set<Promise<void>>();
  const post = async (body: string): Promise<void> => {
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(`${opts.localApi}/v1/observations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json' },
        body,
      });
      if ((res.status === 429 || res.status === 503) && attempt < 50) {
        await new Promise((r) => setTimeout(r, 1000 * Math.min(5, Number(res.headers.get('retry-after') ?? 1))));
        continue;
      }
      if (!res.ok) throw new Error(`local API answered ${res.status}: ${await res.text()}`);
      const r = (await res.json()) as { accepted: number; duplicates: number; rejected: unknown[] };
      out.accepted += r.accepted;
      out.duplicates += r.duplicates;
      out.rejected += r.rejected.length;
      return;
    }
  };
  for await (const line of lines) {
    if (!line.trim()) continue;
    out.samples += (JSON.parse(line) as { samples: unknown[] }).samples.length;
    const p = post(line).finally(() => inflight.delete(p));
    inflight.add(p);
    if (inflight.size >= (opts.concurrency ?? 4)) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  out.seconds = (performance.now() - started) / 1000;
  return out;
}
